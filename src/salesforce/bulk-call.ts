/**
 * One Bulk API 2.0 HTTP call under a call policy (src/salesforce/sink/call.ts): counted, retried with
 * backoff when transient (HTTP 408, 5xx, network resets, timeouts), held while the API quota is spent.
 * A call that outlives the policy's timeout is aborted (the HTTP request is cancelled) before it is
 * tried again, so no call runs beside its own retry. jsforce's own retries are off: each attempt is
 * one request, and each request is counted.
 */
import type { Connection } from 'jsforce';
import { HttpApi } from 'jsforce/lib/http-api.js';
import type { Registry } from 'prom-client';
import type { Logger } from '../observability/logger.ts';
import { ABORT_GRACE_MS, callSalesforce, type CallLabel, type CallPolicy } from './sink/call.ts';
import { errorInfo, SinkCallError } from './sink/errors.ts';
import { sinkMetrics } from './sink/metrics.ts';
import { QuotaGuard } from './sink/quota.ts';

export interface BulkRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Under /services/data/vXX.X, e.g. `/jobs/query/<id>/results`. */
  path: string;
  query?: Record<string, string>;
  /** JSON, or the CSV text of an upload. */
  body?: unknown;
  /** text/csv for an upload or a results page; JSON otherwise. */
  csv?: boolean;
}

export interface BulkResponse<T> {
  body: T;
  headers: Record<string, string | undefined>;
}

/** Statuses worth another try whatever the error code says: the request timed out, or the server failed. */
const retryableStatus = (status: number) => status === 408 || status >= 500;

/** The URL of a Bulk API 2.0 resource of this connection. */
export function bulkUrl(conn: Connection, req: Pick<BulkRequest, 'path' | 'query'>): string {
  const url = new URL(`services/data/v${conn.version}${req.path}`, conn.instanceUrl.endsWith('/') ? conn.instanceUrl : `${conn.instanceUrl}/`);
  for (const [k, v] of Object.entries(req.query ?? {})) url.searchParams.set(k, v);
  return url.toString();
}

/** One attempt: a single HTTP request, cancelled after `timeoutMs` without an answer. */
async function attempt<T>(conn: Connection, req: BulkRequest, label: CallLabel, timeoutMs: number): Promise<BulkResponse<T>> {
  // timeout: jsforce aborts the fetch itself; retry: none inside jsforce (the policy retries, and counts)
  const api = new HttpApi(conn, { ...(req.csv ? { responseType: 'text/csv' } : {}), timeout: timeoutMs, retry: { maxRetries: 0 } } as ConstructorParameters<typeof HttpApi>[1]);
  let status = 0;
  let headers: Record<string, string | undefined> = {};
  api.on('response', (res: { statusCode: number; headers: Record<string, string | undefined> }) => { status = res.statusCode; headers = res.headers; });
  const contentType = req.csv ? 'text/csv' : 'application/json';
  try {
    const body = await api.request<T>({
      method: req.method, url: bulkUrl(conn, req),
      headers: { Accept: req.method === 'GET' && req.csv ? 'text/csv' : 'application/json', ...(req.body !== undefined ? { 'Content-Type': contentType } : {}) },
      ...(req.body !== undefined ? { body: typeof req.body === 'string' ? req.body : JSON.stringify(req.body) } : {}),
    });
    return { body, headers };
  } catch (err) {
    const e = err as Error;
    if (e.name === 'AbortError') {
      throw new SinkCallError({ errorCode: 'REQUEST_TIMEOUT', message: `${label.api} ${label.operation} ${label.sobject}: no answer within ${timeoutMs} ms, request cancelled`, fields: [] }, 'transient', { cause: err });
    }
    if (retryableStatus(status)) {
      const info = errorInfo(err);
      throw new SinkCallError({ ...info, message: `HTTP ${status}: ${info.message}` }, 'transient', { cause: err });
    }
    throw err;
  }
}

export interface BulkCallOptions {
  /** false: a single attempt, for a call that must not be repeated as it is (a job's data upload: Salesforce takes one per job). */
  retries?: boolean;
  /** Told of each attempt (each is one API call). */
  onAttempt?: () => void;
}

/** One Bulk API 2.0 call under `policy`: retried when transient, each attempt counted in the policy's metrics. */
export function bulkCall<T>(conn: Connection, policy: CallPolicy, label: CallLabel, req: BulkRequest, opts: BulkCallOptions = {}): Promise<BulkResponse<T>> {
  const p = opts.retries === false ? { ...policy, maxRetries: 0 } : policy;
  // the outer guard is a little longer: jsforce cancels the request first
  return callSalesforce(p, label, () => {
    opts.onAttempt?.();
    return attempt<T>(conn, req, label, policy.timeoutMs);
  }, policy.timeoutMs + ABORT_GRACE_MS);
}

/** A call policy for a one-off job outside the sink (a drift check, a seed): retries, counting in `registry`, no quota reserve. */
export function oneOffCallPolicy(conn: Connection, log: Logger, registry?: Registry, overrides: Partial<Omit<CallPolicy, 'quota' | 'log'>> = {}): CallPolicy {
  return {
    quota: new QuotaGuard(conn, { reservePercent: 0, throttleMaxDelayMs: 30_000, probeIntervalMs: 60_000 }, log),
    ...(registry ? { metrics: sinkMetrics(registry) } : {}),
    log, maxRetries: 5, minDelayMs: 500, maxDelayMs: 30_000, timeoutMs: 600_000,
    ...overrides,
  };
}
