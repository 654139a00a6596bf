/**
 * One Bulk API 2.0 ingest job (insert or upsert): create, upload the CSV, close, check until it is
 * done, read the failed (and, when the job did not get through them all, the unprocessed) rows. A row
 * is written when it is in neither. Checks are spaced by the job's own pace (the time the rows left
 * should take at the rate seen so far), so a large job costs a handful of calls. Every call goes
 * through a call policy (src/salesforce/bulk-call.ts): counted, retried when transient, cancelled on
 * timeout.
 *
 * The upload is the one call not repeated as it is: Salesforce takes one upload per job (a second PUT
 * is refused, "Found multiple contents for job"), and an upload that timed out or failed may or may
 * not have reached it. So a failed upload aborts its job (an aborted job's data is deleted, never
 * processed) and the rows go again in a new job, with backoff (p-retry); the rows land once. A job
 * not done within the pace's timeout is aborted too before the error is thrown, so a caller that
 * sends the rows again never has them written by two jobs.
 */
import type { Connection } from 'jsforce';
import pRetry from 'p-retry';
import { bulkCall, type BulkCallOptions, type BulkRequest } from './bulk-call.ts';
import { parseBulkError, toCsv } from './sink/bulk.ts';
import type { CallPolicy } from './sink/call.ts';
import { SinkCallError } from './sink/errors.ts';
import type { RecordBody } from './sink/records.ts';
import type { SalesforceErrorInfo } from './sink/types.ts';

export interface IngestSpec {
  object: string;
  operation: 'insert' | 'upsert';
  /** The upsert's external id field. */
  externalIdField?: string;
  /** The column whose value keys the failed rows (the external id field when absent). */
  keyField?: string;
}

export interface IngestPace {
  /** The first check, and the shortest wait between two. */
  minPollMs: number;
  maxPollMs: number;
  timeoutMs: number;
}

export interface IngestResult {
  jobId: string;
  /** Refused rows by the value of their key column, with Salesforce's error. */
  failed: Map<string, SalesforceErrorInfo>;
  /** API calls the job took (retries and replaced jobs included). */
  calls: number;
  /** Jobs aborted because their upload failed, before the one that took the rows. */
  abortedJobs: string[];
}

type JobInfo = { id: string; state: string; numberRecordsProcessed?: number; numberRecordsFailed?: number; errorMessage?: string };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Writes `bodies` into `spec.object` in one job. `onProgress` gets the rows processed so far. A job
 * that fails as a whole throws with Salesforce's message.
 */
export async function bulkIngestJob(
  conn: Connection, policy: CallPolicy, spec: IngestSpec, bodies: RecordBody[], pace: IngestPace,
  onProgress: (processed: number) => void = () => {},
): Promise<IngestResult> {
  const { object: sobject } = spec;
  let calls = 0;
  const call = async <T>(operation: string, req: BulkRequest, opts: BulkCallOptions = {}) =>
    (await bulkCall<T>(conn, policy, { api: 'bulk', sobject, operation }, req, { ...opts, onAttempt: () => { calls += 1; } })).body;

  const abort = (id: string) => call('abort-job', { method: 'PATCH', path: `/jobs/ingest/${id}`, body: { state: 'Aborted' } });
  const csv = toCsv(bodies);
  const abortedJobs: string[] = [];
  const jobId = await pRetry(async () => {
    const job = await call<JobInfo>('create-job', {
      method: 'POST', path: '/jobs/ingest',
      body: { object: sobject, operation: spec.operation, ...(spec.externalIdField ? { externalIdFieldName: spec.externalIdField } : {}), lineEnding: 'LF', contentType: 'CSV' },
    });
    try {
      await call('upload', { method: 'PUT', path: `/jobs/ingest/${job.id}/batches`, body: csv, csv: true }, { retries: false });
    } catch (err) {
      // whatever of the data reached Salesforce is deleted with the job, never processed
      await abort(job.id)
        .catch((abortErr: Error) => policy.log.warn({ jobId: job.id, sobject, err: abortErr.message }, 'a job whose upload failed could not be aborted'));
      abortedJobs.push(job.id);
      throw err;
    }
    return job.id;
  }, {
    retries: policy.maxRetries, factor: 2, minTimeout: policy.minDelayMs, maxTimeout: policy.maxDelayMs, randomize: true,
    shouldRetry: ({ error }) => error instanceof SinkCallError && error.kind === 'transient' && !policy.quota.isClosed,
    onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
      if (error instanceof SinkCallError && error.kind === 'transient') {
        policy.log.warn({ sobject, rows: bodies.length, errorCode: error.info.errorCode, attempt: attemptNumber, retriesLeft, abortedJob: abortedJobs.at(-1) },
          'Bulk API upload failed: its job is aborted and the rows go again in a new job');
      }
    },
  });
  await call('close-job', { method: 'PATCH', path: `/jobs/ingest/${jobId}`, body: { state: 'UploadComplete' } });

  const started = Date.now();
  let wait = pace.minPollMs;
  let info: JobInfo;
  // set when the job outlived the timeout and could not be aborted: its rows are Salesforce's now
  let unabortable = false;
  for (;;) {
    await sleep(wait);
    info = await call<JobInfo>('check-job', { method: 'GET', path: `/jobs/ingest/${jobId}` });
    onProgress(info.numberRecordsProcessed ?? 0);
    if (info.state === 'JobComplete' || info.state === 'Failed' || info.state === 'Aborted') break;
    const elapsed = Date.now() - started;
    if (elapsed > pace.timeoutMs && !unabortable) {
      // a job left running could land beside the retry of its rows: it is aborted first
      const late = `Bulk API job ${jobId} (${sobject}) not done after ${pace.timeoutMs} ms: ${info.state}, ${info.numberRecordsProcessed ?? 0} of ${bodies.length} rows`;
      const abortErr = await abort(jobId).then(() => undefined, (e: Error) => e);
      if (!abortErr) throw new Error(`${late}; aborted`);
      // refused: it finished meanwhile (read its results), or it could not be aborted
      info = await call<JobInfo>('check-job', { method: 'GET', path: `/jobs/ingest/${jobId}` });
      if (info.state === 'JobComplete' || info.state === 'Failed' || info.state === 'Aborted') break;
      // sending its rows again in another job could write them twice: this job is waited out instead
      unabortable = true;
      policy.log.warn({ jobId, sobject, state: info.state, rows: bodies.length, err: abortErr.message },
        'a Bulk API job past its timeout could not be aborted: waiting for it to end rather than sending its rows again');
    }
    const processed = info.numberRecordsProcessed ?? 0;
    // the rows left at the rate seen so far; twice the last wait while nothing moved
    wait = processed > 0 ? ((bodies.length - processed) * elapsed) / processed : wait * 2;
    wait = Math.min(pace.maxPollMs, Math.max(pace.minPollMs, wait * 1.1));
  }
  if (info.state !== 'JobComplete') throw new Error(`Bulk API job ${jobId} (${sobject}) ended ${info.state}: ${info.errorMessage ?? 'no message'}`);

  const keyField = spec.keyField ?? spec.externalIdField ?? 'sf__Id';
  const failed = new Map<string, SalesforceErrorInfo>();
  const rows = await call<Array<Record<string, string>> | string>('failed-results', { method: 'GET', path: `/jobs/ingest/${jobId}/failedResults`, csv: true });
  for (const row of Array.isArray(rows) ? rows : []) failed.set(String(row[keyField]), parseBulkError(String(row.sf__Error ?? '')));
  if ((info.numberRecordsProcessed ?? 0) < bodies.length) {
    const left = await call<Array<Record<string, string>> | string>('unprocessed-records', { method: 'GET', path: `/jobs/ingest/${jobId}/unprocessedrecords`, csv: true });
    for (const row of Array.isArray(left) ? left : []) {
      failed.set(String(row[keyField]), { errorCode: 'UNPROCESSED', message: `Bulk API job ${jobId} left the row unprocessed`, fields: [] });
    }
  }
  return { jobId, failed, calls, abortedJobs };
}
