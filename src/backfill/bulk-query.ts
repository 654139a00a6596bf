/**
 * A Bulk API 2.0 query of a backfill: one job per Salesforce object, its results read a page at a time
 * by Sforce-Locator, so a page can be handed over and checkpointed (job id + locator) before the next
 * is fetched, and an interrupted backfill resumes at the page it was on.
 */
import type { Connection } from 'jsforce';
import { QueryJobV2 } from 'jsforce/lib/api/bulk2.js';
import { HttpApi } from 'jsforce/lib/http-api.js';
import { callSalesforce, type CallPolicy } from '../salesforce/sink/call.ts';

export interface QueryJob {
  jobId: string;
  /** When Salesforce created the job (its clock): every record read is at least as recent. */
  startedAt: number;
  /** Records the query found. */
  records: number;
}

export interface QueryPage {
  records: Array<Record<string, string>>;
  /** The locator of the next page; null after the last. */
  next: string | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Creates the query job and waits until its results can be read. */
export async function startQueryJob(conn: Connection, policy: CallPolicy, object: string, soql: string, timeoutMs = 3_600_000): Promise<QueryJob> {
  const job = new QueryJobV2(conn, { bodyParams: { query: soql, operation: 'query' }, pollingOptions: conn.bulk2 } as ConstructorParameters<typeof QueryJobV2>[1]);
  const created = await callSalesforce(policy, { api: 'bulk', sobject: object, operation: 'create-query-job' }, () => job.open());
  const started = Date.now();
  for (let wait = 200; ; wait = Math.min(wait * 2, 10_000)) {
    const info = await callSalesforce(policy, { api: 'bulk', sobject: object, operation: 'check-query-job' }, () => job.check());
    if (info.state === 'JobComplete') return { jobId: job.id, startedAt: Date.parse(created.createdDate) || started, records: info.numberRecordsProcessed ?? 0 };
    if (info.state === 'Failed' || info.state === 'Aborted') throw new Error(`Bulk API query job ${job.id} (${object}) ended ${info.state}`);
    if (Date.now() - started > timeoutMs) throw new Error(`Bulk API query job ${job.id} (${object}) not done after ${timeoutMs} ms`);
    await sleep(wait);
  }
}

/** One page of a query job's results, from `locator` ('' = the first page). */
export async function queryPage(conn: Connection, policy: CallPolicy, object: string, jobId: string, locator: string, maxRecords: number): Promise<QueryPage> {
  return callSalesforce(policy, { api: 'bulk', sobject: object, operation: 'query-results' }, async () => {
    const api = new HttpApi(conn, { responseType: 'text/csv' });
    let next: string | undefined;
    api.on('response', (res: { headers: Record<string, string | undefined> }) => { next = res.headers['sforce-locator']; });
    const query = new URLSearchParams({ maxRecords: String(maxRecords), ...(locator ? { locator } : {}) });
    const records = await api.request({
      method: 'GET', url: `${conn.instanceUrl}/services/data/v${conn.version}/jobs/query/${jobId}/results?${query}`, headers: { Accept: 'text/csv' },
    }) as Array<Record<string, string>> | string;
    return { records: Array.isArray(records) ? records : [], next: next && next !== 'null' ? next : null };
  });
}
