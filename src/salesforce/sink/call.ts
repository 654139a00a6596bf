import pRetry from 'p-retry';
import type { Logger } from '../../observability/logger.ts';
import { classify, errorInfo, SinkCallError } from './errors.ts';
import type { SinkMetrics } from './metrics.ts';
import type { QuotaGuard } from './quota.ts';

export interface CallPolicy {
  quota: QuotaGuard;
  metrics?: SinkMetrics;
  log: Logger;
  maxRetries: number;
  minDelayMs: number;
  maxDelayMs: number;
  timeoutMs: number;
}

export interface CallLabel {
  api: 'collections' | 'bulk' | 'query';
  sobject: string;
  operation: string;
}

/**
 * How much longer a call's guard waits than the HTTP request's own timeout: the HTTP layer aborts
 * the request first (closing the connection), so no call runs on beside its retry.
 */
export const ABORT_GRACE_MS = 5_000;

function withTimeout<T>(p: PromiseLike<T>, ms: number, label: CallLabel): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SinkCallError(
      { errorCode: 'REQUEST_TIMEOUT', message: `${label.api} ${label.operation} ${label.sobject}: no answer within ${ms} ms`, fields: [] }, 'transient')), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * One Salesforce call under the sink's policy: waits while the quota is exhausted, retries
 * transient failures with exponential backoff (p-retry) up to maxRetries, holds and probes again
 * on REQUEST_LIMIT_EXCEEDED, and throws a SinkCallError (kind permanent or transient) otherwise.
 */
export async function callSalesforce<T>(policy: CallPolicy, label: CallLabel, fn: () => PromiseLike<T>, timeoutMs = policy.timeoutMs): Promise<T> {
  for (;;) {
    await policy.quota.gate();
    if (policy.quota.isClosed && policy.quota.state().mode === 'exhausted') {
      throw new SinkCallError({ errorCode: 'REQUEST_LIMIT_EXCEEDED', message: 'API quota exhausted and the sink is closing', fields: [] }, 'transient');
    }
    try {
      return await pRetry(async () => {
        policy.metrics?.apiCalls.inc({ api: label.api, sobject: label.sobject, operation: label.operation });
        try {
          const res = await withTimeout(fn(), timeoutMs, label);
          policy.quota.observe(true);
          return res;
        } catch (err) {
          policy.quota.observe(false);
          if (err instanceof SinkCallError) throw err;
          const info = errorInfo(err);
          throw new SinkCallError(info, classify(info), { cause: err });
        }
      }, {
        retries: policy.maxRetries,
        factor: 2,
        minTimeout: policy.minDelayMs,
        maxTimeout: policy.maxDelayMs,
        randomize: true,
        shouldRetry: ({ error }) => error instanceof SinkCallError && error.kind === 'transient' && !policy.quota.isClosed,
        onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
          const e = error as SinkCallError;
          if (e.kind === 'transient') {
            policy.metrics?.retries.inc({ error_code: e.info.errorCode });
            policy.log.warn({ ...label, errorCode: e.info.errorCode, attempt: attemptNumber, retriesLeft }, 'Salesforce call failed, retrying');
          }
        },
      });
    } catch (err) {
      if (err instanceof SinkCallError && err.kind === 'quota') {
        policy.quota.exhausted();
        if (policy.quota.isClosed) throw new SinkCallError(err.info, 'transient', { cause: err });
        continue;
      }
      throw err;
    }
  }
}
