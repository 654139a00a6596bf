/**
 * A Bulk API 2.0 query read a page at a time: the job is created and polled with jsforce's
 * QueryJobV2, then its CSV results are fetched page by page (maxRecords, Sforce-Locator), so only
 * one page is in memory. jsforce's own bulk2.query() fetches every page before it hands any out.
 */
import type { Connection } from 'jsforce';
import { QueryJobV2 } from 'jsforce/lib/api/bulk2.js';
import { HttpApi } from 'jsforce/lib/http-api.js';

export interface BulkQueryOptions {
  /** Records per results page. */
  pageSize: number;
  pollIntervalMs: number;
  pollTimeoutMs: number;
}

/** The query's records as Salesforce's CSV gives them (every value text; an empty value is null). */
export async function* bulkQueryPages(conn: Connection, soql: string, opts: BulkQueryOptions): AsyncGenerator<Array<Record<string, string>>> {
  const job = new QueryJobV2(conn, { bodyParams: { query: soql, operation: 'query' }, pollingOptions: { pollInterval: opts.pollIntervalMs, pollTimeout: opts.pollTimeoutMs } });
  await job.open();
  try {
    await job.poll(opts.pollIntervalMs, opts.pollTimeoutMs);
    const results = new URL(`services/data/v${conn.version}/jobs/query/${job.id}/results`, conn.instanceUrl.endsWith('/') ? conn.instanceUrl : `${conn.instanceUrl}/`);
    let locator: string | undefined;
    do {
      const url = new URL(results);
      url.searchParams.set('maxRecords', String(opts.pageSize));
      if (locator) url.searchParams.set('locator', locator);
      const api = new HttpApi(conn, {});
      api.on('response', (res: { headers: Record<string, string | undefined> }) => { locator = res.headers['sforce-locator']; });
      const page = await api.request<Array<Record<string, string>> | string>({ method: 'GET', url: url.toString(), headers: { Accept: 'text/csv' } });
      // an empty result is an empty body
      yield Array.isArray(page) ? page : [];
    } while (locator && locator !== 'null');
  } finally {
    await job.delete().catch(() => undefined);
  }
}

/** Page size and polling for a one-off read (the seed's look at what the org holds). */
export const ONE_OFF_QUERY: BulkQueryOptions = { pageSize: 50_000, pollIntervalMs: 500, pollTimeoutMs: 600_000 };
