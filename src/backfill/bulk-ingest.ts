/**
 * One Bulk API 2.0 upsert job of a backfill: create, upload the CSV, close, check until it is done, read
 * the failed (and, when the job did not get through them all, the unprocessed) rows. A row is written
 * when it is in neither. Checks are spaced by the job's own pace (the time the rows left should take at
 * the rate seen so far), so a large job costs a handful of calls; every call goes through the sink's
 * call policy (retries of transient errors, the API quota).
 */
import type { Connection } from 'jsforce';
import { IngestJobV2 } from 'jsforce/lib/api/bulk2.js';
import { HttpApi } from 'jsforce/lib/http-api.js';
import { parseBulkError, toCsv } from '../salesforce/sink/bulk.ts';
import { callSalesforce, type CallPolicy } from '../salesforce/sink/call.ts';
import type { RecordBody } from '../salesforce/sink/records.ts';
import type { SalesforceErrorInfo } from '../salesforce/sink/types.ts';

export interface IngestPace {
  /** The first check, and the shortest wait between two. */
  minPollMs: number;
  maxPollMs: number;
  timeoutMs: number;
}

export interface IngestResult {
  jobId: string;
  /** Refused rows by external id value, with Salesforce's error. */
  failed: Map<string, SalesforceErrorInfo>;
  /** API calls the job took. */
  calls: number;
}

type JobInfo = { state: string; numberRecordsProcessed?: number; numberRecordsFailed?: number; errorMessage?: string };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Upserts `bodies` into `sobject` by `extField` in one job. `onProgress` gets the rows processed so far.
 * A job that fails as a whole throws with Salesforce's message.
 */
export async function bulkUpsertJob(
  conn: Connection, policy: CallPolicy, sobject: string, extField: string, bodies: RecordBody[], pace: IngestPace,
  onProgress: (processed: number) => void = () => {},
): Promise<IngestResult> {
  let calls = 0;
  const call = <T>(operation: string, fn: () => PromiseLike<T>) => {
    calls += 1;
    return callSalesforce(policy, { api: 'bulk', sobject, operation }, fn);
  };
  const job = new IngestJobV2(conn, {
    bodyParams: { object: sobject, operation: 'upsert', externalIdFieldName: extField, lineEnding: 'LF', contentType: 'CSV' },
    pollingOptions: conn.bulk2,
  } as ConstructorParameters<typeof IngestJobV2>[1]);
  await call('create-job', () => job.open());
  const csv = toCsv(bodies);
  // one PUT of the whole CSV (a retry sends it again: jsforce's own upload stream cannot be sent twice)
  await call('upload', () => new HttpApi(conn, { responseType: 'text/plain' }).request({
    method: 'PUT', url: `${conn.instanceUrl}/services/data/v${conn.version}/jobs/ingest/${job.id}/batches`,
    headers: { 'Content-Type': 'text/csv' }, body: csv,
  }));
  await call('close-job', () => job.close());

  const started = Date.now();
  let wait = pace.minPollMs;
  let info: JobInfo;
  for (;;) {
    await sleep(wait);
    info = await call('check-job', () => job.check()) as JobInfo;
    onProgress(info.numberRecordsProcessed ?? 0);
    if (info.state === 'JobComplete' || info.state === 'Failed' || info.state === 'Aborted') break;
    const elapsed = Date.now() - started;
    if (elapsed > pace.timeoutMs) throw new Error(`Bulk API job ${job.id} (${sobject}) not done after ${pace.timeoutMs} ms: ${info.state}, ${info.numberRecordsProcessed ?? 0} of ${bodies.length} rows`);
    const processed = info.numberRecordsProcessed ?? 0;
    // the rows left at the rate seen so far; twice the last wait while nothing moved
    wait = processed > 0 ? ((bodies.length - processed) * elapsed) / processed : wait * 2;
    wait = Math.min(pace.maxPollMs, Math.max(pace.minPollMs, wait * 1.1));
  }
  if (info.state !== 'JobComplete') throw new Error(`Bulk API job ${job.id} (${sobject}) ended ${info.state}: ${info.errorMessage ?? 'no message'}`);

  const failed = new Map<string, SalesforceErrorInfo>();
  const rows = await call('failed-results', () => job.getFailedResults()) as Array<Record<string, unknown>>;
  for (const row of rows) failed.set(String(row[extField]), parseBulkError(String(row.sf__Error ?? '')));
  if ((info.numberRecordsProcessed ?? 0) < bodies.length) {
    const left = await call('unprocessed-records', () => job.getUnprocessedRecords()) as Array<Record<string, unknown>> | string;
    for (const row of Array.isArray(left) ? left : []) {
      failed.set(String(row[extField]), { errorCode: 'UNPROCESSED', message: `Bulk API job ${job.id} left the row unprocessed`, fields: [] });
    }
  }
  return { jobId: job.id, failed, calls };
}
