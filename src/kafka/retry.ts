import pRetry from 'p-retry';
import { z } from 'zod';
import { classifyError } from './errors.ts';

const classBudgetSchema = z.strictObject({
  retries: z.number().int().min(0).max(1000).describe('Retries of one record for this error class.'),
  minDelayMs: z.number().int().min(0).default(100).describe('First backoff delay.'),
  maxDelayMs: z.number().int().min(0).default(30_000).describe('Longest backoff delay.'),
  factor: z.number().min(1).default(2).describe('Backoff growth per attempt.'),
  jitter: z.boolean().default(true).describe('Randomize each delay between half and all of it.'),
});

/**
 * Retry policy: a budget per error class (see classifyError). Classes without a budget are not
 * retried. A record whose budget is spent goes to the DLQ.
 */
export const retryPolicySchema = z.strictObject({
  classes: z.record(z.string(), classBudgetSchema).default({
    transient: { retries: 5, minDelayMs: 200, maxDelayMs: 10_000, factor: 2, jitter: true },
    rate_limited: { retries: 20, minDelayMs: 1_000, maxDelayMs: 60_000, factor: 2, jitter: true },
  }).describe('Budget per error class.'),
});

export type RetryPolicy = z.output<typeof retryPolicySchema>;
export type RetryPolicyInput = z.input<typeof retryPolicySchema>;
export type ClassBudget = z.output<typeof classBudgetSchema>;

/** Validates a retry policy; the error names the bad field (e.g. `classes.transient.retries`). */
export function parseRetryPolicy(input: unknown = {}): RetryPolicy {
  const parsed = retryPolicySchema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `retry.${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid retry policy: ${issues.join('; ')}`);
  }
  return parsed.data;
}

export function backoffDelay(budget: ClassBudget, retryNumber: number, random = Math.random): number {
  const base = Math.min(budget.maxDelayMs, budget.minDelayMs * budget.factor ** Math.max(0, retryNumber - 1));
  return Math.round(budget.jitter ? base / 2 + (random() * base) / 2 : base);
}

export interface RetryHooks {
  classify?: (err: unknown) => string;
  /** Called before each retry's delay. */
  onRetry?: (info: { error: unknown; errorClass: string; retry: number; delayMs: number }) => void;
  signal?: AbortSignal;
}

/** The error a record ended with, and its class, after the retry budget for that class ran out. */
export class RetriesExhaustedError extends Error {
  constructor(readonly lastError: unknown, readonly errorClass: string, readonly attempts: number) {
    super(`gave up after ${attempts} attempt(s): ${lastError instanceof Error ? lastError.message : String(lastError)}`, { cause: lastError });
    this.name = 'RetriesExhaustedError';
  }
}

/**
 * Runs `fn`, retrying failures while their class has budget left. Each class counts its own
 * retries, so a rate limit does not use up the budget for network errors. Rejects with
 * RetriesExhaustedError (wrapping the last error) when it gives up, or with the signal's reason
 * when aborted.
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, policy: RetryPolicy, hooks: RetryHooks = {}): Promise<T> {
  // the first attempt runs at once: nearly every call succeeds there, and setting the retries up costs
  // more than a record's handling (~9 µs a call, twice per record and processor); a first attempt that
  // fails goes through the retries as its first failure, exactly as if they had run it
  let first: { error: unknown } | undefined;
  if (!hooks.signal?.aborted) {
    try {
      return await fn(1);
    } catch (error) {
      first = { error };
    }
  }
  const classify = hooks.classify ?? classifyError;
  const used = new Map<string, number>();
  const total = Object.values(policy.classes).reduce((n, b) => n + b.retries, 0);
  let lastClass = 'fatal';
  let attempts = 0;
  try {
    return await pRetry(async (attempt) => {
      attempts = attempt;
      if (attempt === 1 && first) throw first.error;
      return fn(attempt);
    }, {
      retries: total,
      minTimeout: 0,
      maxTimeout: 0,
      randomize: false,
      signal: hooks.signal,
      shouldConsumeRetry: () => true,
      shouldRetry: async ({ error }) => {
        lastClass = classify(error);
        const budget = policy.classes[lastClass];
        const n = (used.get(lastClass) ?? 0) + 1;
        if (!budget || n > budget.retries) return false;
        used.set(lastClass, n);
        const hinted = (error as { retryAfterMs?: unknown }).retryAfterMs;
        const delayMs = typeof hinted === 'number' && hinted >= 0 ? Math.min(hinted, budget.maxDelayMs) : backoffDelay(budget, n);
        hooks.onRetry?.({ error, errorClass: lastClass, retry: n, delayMs });
        await sleep(delayMs, hooks.signal);
        return true;
      },
    });
  } catch (err) {
    if (hooks.signal?.aborted) throw hooks.signal.reason ?? err;
    throw new RetriesExhaustedError(err, classify(err), attempts);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
