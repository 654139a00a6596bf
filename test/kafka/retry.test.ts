import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyError, RateLimitedError, TransientError } from '../../src/kafka/errors.ts';
import { backoffDelay, parseRetryPolicy, RetriesExhaustedError, withRetry } from '../../src/kafka/retry.ts';

const fast = { minDelayMs: 1, maxDelayMs: 2, factor: 2, jitter: false };

test('each error class spends its own retry budget', async () => {
  const policy = parseRetryPolicy({ classes: { transient: { retries: 1, ...fast }, rate_limited: { retries: 3, ...fast } } });
  const failures = [new RateLimitedError('429'), new TransientError('503'), new RateLimitedError('429'), new RateLimitedError('429')];
  const retried: string[] = [];
  const result = await withRetry(async (attempt) => {
    const err = failures[attempt - 1];
    if (err) throw err;
    return attempt;
  }, policy, { onRetry: ({ errorClass }) => retried.push(errorClass) });
  assert.equal(result, 5, 'succeeded on the fifth attempt: one transient retry and three rate-limit retries fit the budgets');
  assert.deepEqual(retried, ['rate_limited', 'transient', 'rate_limited', 'rate_limited']);
});

test('a class whose budget is spent gives up with the last error and its class', async () => {
  const policy = parseRetryPolicy({ classes: { transient: { retries: 2, ...fast } } });
  let calls = 0;
  await assert.rejects(withRetry(async () => { calls++; throw new TransientError('still down'); }, policy), (err: unknown) => {
    assert.ok(err instanceof RetriesExhaustedError);
    assert.equal(err.errorClass, 'transient');
    assert.equal(err.attempts, 3);
    assert.equal((err.lastError as Error).message, 'still down');
    return true;
  });
  assert.equal(calls, 3);
});

test('errors of a class without a budget are not retried', async () => {
  const policy = parseRetryPolicy({ classes: { transient: { retries: 5, ...fast } } });
  let calls = 0;
  await assert.rejects(withRetry(async () => { calls++; throw new Error('validation: Name is required'); }, policy), RetriesExhaustedError);
  assert.equal(calls, 1);
});

test('a rate limit\'s retry-after hint replaces the backoff delay', async () => {
  const policy = parseRetryPolicy({ classes: { rate_limited: { retries: 1, minDelayMs: 5000, maxDelayMs: 60_000, factor: 2, jitter: false } } });
  const delays: number[] = [];
  let calls = 0;
  await withRetry(async () => { if (calls++ === 0) throw new RateLimitedError('slow down', 3); return 'ok'; }, policy, { onRetry: ({ delayMs }) => delays.push(delayMs) });
  assert.deepEqual(delays, [3]);
});

test('backoff grows by the factor and stops at the maximum', () => {
  const budget = { retries: 10, minDelayMs: 100, maxDelayMs: 1000, factor: 3, jitter: false };
  assert.deepEqual([1, 2, 3, 4].map((n) => backoffDelay(budget, n)), [100, 300, 900, 1000]);
});

test('stopping aborts a retry wait with the stop reason', async () => {
  const policy = parseRetryPolicy({ classes: { transient: { retries: 3, minDelayMs: 60_000, maxDelayMs: 60_000, factor: 1, jitter: false } } });
  const controller = new AbortController();
  const pending = withRetry(async () => { throw new TransientError('down'); }, policy, { signal: controller.signal });
  setTimeout(() => controller.abort(new Error('stopping')), 20);
  await assert.rejects(pending, /stopping/);
});

test('a bad policy names the bad field', () => {
  assert.throws(() => parseRetryPolicy({ classes: { transient: { retries: -1 } } }), /retry\.classes\.transient\.retries/);
});

test('network error codes and retriable Kafka errors classify as transient, others as fatal', () => {
  assert.equal(classifyError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })), 'transient');
  assert.equal(classifyError(Object.assign(new Error('x'), { name: 'KafkaJSConnectionError', retriable: true })), 'transient');
  assert.equal(classifyError(new Error('wrapped', { cause: new RateLimitedError('429') })), 'rate_limited');
  assert.equal(classifyError(new TypeError('undefined is not a function')), 'fatal');
});
