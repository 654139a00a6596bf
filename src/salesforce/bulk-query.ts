/**
 * The Bulk API 2.0 query reader: a job is created and checked until its results can be read, then its
 * CSV results are read a page at a time (maxRecords, Sforce-Locator), so only one page is in memory
 * and a caller can checkpoint between pages (job id + locator). Every call goes through a call policy
 * (src/salesforce/bulk-call.ts): counted, retried when transient, cancelled on timeout. jsforce's own
 * bulk2.query() is not used: it fetches every page before it hands any out and mis-parses results of
 * several pages.
 */
import type { Connection } from 'jsforce';
import { bulkCall } from './bulk-call.ts';
import type { CallPolicy } from './sink/call.ts';

export interface QueryJob {
  jobId: string;
  /** When Salesforce created the job (its clock): every record read is at least as recent. */
  startedAt: number;
  /** Records the query found. */
  records: number;
}

export interface QueryPage {
  /** As Salesforce's CSV gives them: every value text, an empty value ''. */
  records: Array<Record<string, string>>;
  /** The locator of the next page; null after the last. */
  next: string | null;
}

export interface BulkQueryOptions {
  /** Records per results page. */
  pageSize: number;
  /** The first check of the job, and the shortest wait between two (doubling up to 10 s). */
  pollIntervalMs: number;
  pollTimeoutMs: number;
}

/** Page size and polling for a one-off read (the seed's look at what the org holds). */
export const ONE_OFF_QUERY: BulkQueryOptions = { pageSize: 50_000, pollIntervalMs: 500, pollTimeoutMs: 600_000 };

type JobInfo = { id: string; state: string; createdDate?: string; numberRecordsProcessed?: number; errorMessage?: string };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The object a SOQL query reads (the label of its calls). */
const objectOf = (soql: string) => /\bFROM\s+(\w+)/i.exec(soql)?.[1] ?? 'unknown';

/** Creates the query job and waits until its results can be read. */
export async function startQueryJob(conn: Connection, policy: CallPolicy, soql: string, poll: Pick<BulkQueryOptions, 'pollIntervalMs' | 'pollTimeoutMs'> = { pollIntervalMs: 200, pollTimeoutMs: 3_600_000 }): Promise<QueryJob> {
  const sobject = objectOf(soql);
  const created = (await bulkCall<JobInfo>(conn, policy, { api: 'bulk', sobject, operation: 'create-query-job' },
    { method: 'POST', path: '/jobs/query', body: { operation: 'query', query: soql } })).body;
  const started = Date.now();
  for (let wait = poll.pollIntervalMs; ; wait = Math.min(wait * 2, Math.max(10_000, poll.pollIntervalMs))) {
    const info = (await bulkCall<JobInfo>(conn, policy, { api: 'bulk', sobject, operation: 'check-query-job' }, { method: 'GET', path: `/jobs/query/${created.id}` })).body;
    if (info.state === 'JobComplete') return { jobId: created.id, startedAt: Date.parse(created.createdDate ?? '') || started, records: info.numberRecordsProcessed ?? 0 };
    if (info.state === 'Failed' || info.state === 'Aborted') throw new Error(`Bulk API query job ${created.id} (${sobject}) ended ${info.state}${info.errorMessage ? `: ${info.errorMessage}` : ''}`);
    if (Date.now() - started > poll.pollTimeoutMs) throw new Error(`Bulk API query job ${created.id} (${sobject}) not done after ${poll.pollTimeoutMs} ms`);
    await sleep(wait);
  }
}

/** One page of a query job's results, from `locator` ('' = the first page). */
export async function queryPage(conn: Connection, policy: CallPolicy, sobject: string, jobId: string, locator: string, maxRecords: number): Promise<QueryPage> {
  const res = await bulkCall<Array<Record<string, string>> | string>(conn, policy, { api: 'bulk', sobject, operation: 'query-results' }, {
    method: 'GET', path: `/jobs/query/${jobId}/results`, csv: true,
    query: { maxRecords: String(maxRecords), ...(locator ? { locator } : {}) },
  });
  const next = res.headers['sforce-locator'];
  // an empty result is an empty body
  return { records: Array.isArray(res.body) ? res.body : [], next: next && next !== 'null' ? next : null };
}

/** Deletes a job whose results were read (best effort: Salesforce deletes it after 7 days anyway). */
async function deleteQueryJob(conn: Connection, policy: CallPolicy, sobject: string, jobId: string): Promise<void> {
  await bulkCall(conn, policy, { api: 'bulk', sobject, operation: 'delete-query-job' }, { method: 'DELETE', path: `/jobs/query/${jobId}` }).catch((err: Error) => {
    policy.log.debug({ jobId, err: err.message }, 'a read query job could not be deleted');
  });
}

/** The query's records a page at a time; the job is deleted after the last page (or when the reader stops). */
export async function* bulkQueryPages(conn: Connection, policy: CallPolicy, soql: string, opts: BulkQueryOptions): AsyncGenerator<Array<Record<string, string>>> {
  const sobject = objectOf(soql);
  const job = await startQueryJob(conn, policy, soql, opts);
  try {
    let locator = '';
    do {
      const page = await queryPage(conn, policy, sobject, job.jobId, locator, opts.pageSize);
      yield page.records;
      locator = page.next ?? '';
    } while (locator);
  } finally {
    await deleteQueryJob(conn, policy, sobject, job.jobId);
  }
}
