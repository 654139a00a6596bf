/**
 * How the seed writes to and reads from the org: Bulk API 2.0 jobs under a call policy of the
 * connection's own (src/salesforce/bulk-call.ts), so a failed or timed-out upload goes again in a new
 * job and a transient failure of any call is retried. A row the org refuses stops the seed.
 */
import type { Connection } from 'jsforce';
import { createLogger } from '../observability/logger.ts';
import { oneOffCallPolicy } from '../salesforce/bulk-call.ts';
import { bulkIngestJob, type IngestSpec } from '../salesforce/bulk-ingest.ts';
import { bulkQueryPages, ONE_OFF_QUERY } from '../salesforce/bulk-query.ts';
import type { CallPolicy } from '../salesforce/sink/call.ts';

const policies = new WeakMap<Connection, CallPolicy>();

function policyOf(conn: Connection): CallPolicy {
  let policy = policies.get(conn);
  if (!policy) policies.set(conn, (policy = oneOffCallPolicy(conn, createLogger('seed'))));
  return policy;
}

const PACE = { minPollMs: 200, maxPollMs: 5_000, timeoutMs: 600_000 };

/** Writes `rows` in one job; throws naming the first refused row's error. Returns the rows written. */
export async function loadRows(conn: Connection, spec: IngestSpec, rows: Record<string, unknown>[]): Promise<number> {
  if (rows.length === 0) return 0;
  const res = await bulkIngestJob(conn, policyOf(conn), spec, rows, PACE);
  const first = res.failed.values().next();
  if (!first.done) throw new Error(`${res.failed.size} ${spec.object} rows refused by the org, e.g. ${first.value.errorCode}: ${first.value.message}`);
  return rows.length;
}

/** The query's records, a page at a time. */
export function queryRows(conn: Connection, soql: string): AsyncGenerator<Array<Record<string, string>>> {
  return bulkQueryPages(conn, policyOf(conn), soql, ONE_OFF_QUERY);
}
