/**
 * Error classes the runtime understands. A handler throws one of these (or any error, which
 * `classifyError` maps to a class) and the retry policy decides, per class, how often and how
 * slowly to retry before the record goes to the dead-letter topic.
 */

/** A failure worth retrying (network blip, 5xx, lock contention). Class `transient`. */
export class TransientError extends Error {
  readonly errorClass: string = 'transient';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransientError';
  }
}

/**
 * A transient failure of one record's own write (e.g. its row stays locked), not of the call as a
 * whole. A batch sink that still gets it after the retry budget splits the chunk to isolate the
 * record and dead-letters that record alone, with this reason; its neighbours land. Failures of
 * the whole call (network, 5xx, session) are plain TransientErrors: they never dead-letter.
 */
export class RecordTransientError extends TransientError {
  readonly isolatable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RecordTransientError';
  }
}

/** True when `err` (or an error it wraps, e.g. RetriesExhaustedError) is a RecordTransientError. */
export function isRecordTransient(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof RecordTransientError) return true;
  }
  return false;
}

/** The other side asked us to slow down. Class `rate_limited`; `retryAfterMs` overrides the backoff. */
export class RateLimitedError extends Error {
  readonly errorClass: string = 'rate_limited';
  constructor(message: string, readonly retryAfterMs?: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RateLimitedError';
  }
}

/** The record itself is bad (validation error, unknown shape): never retried, straight to the DLQ. */
export class PoisonRecordError extends Error {
  readonly errorClass: string = 'poison';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PoisonRecordError';
  }
}

/** The record's bytes could not be decoded. Never retried. */
export class DecodeError extends Error {
  readonly errorClass: string = 'decode';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DecodeError';
  }
}

const TRANSIENT_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH',
  'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT',
  '40001', '40P01', '57P01', // PostgreSQL: serialization failure, deadlock, admin shutdown
]);

/**
 * The retry class of an error: its own `errorClass` when it has one, `transient` for network
 * errors and retriable Kafka errors, otherwise `fatal` (not retried by the default policy).
 */
export function classifyError(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { errorClass?: unknown; code?: unknown; retriable?: unknown; name?: unknown; cause?: unknown };
    if (typeof e.errorClass === 'string') return e.errorClass;
    if (typeof e.code === 'string' && TRANSIENT_CODES.has(e.code)) return 'transient';
    if (typeof e.name === 'string' && e.name.startsWith('KafkaJS') && e.retriable === true) return 'transient';
    if (e.cause && e.cause !== err) {
      const inner = classifyError(e.cause);
      if (inner !== 'fatal') return inner;
    }
  }
  return 'fatal';
}

/** First lines of a stack trace, enough to find the throw site without flooding a DLQ header. */
export function stackHead(err: unknown, lines = 6): string {
  const stack = err instanceof Error ? err.stack ?? `${err.name}: ${err.message}` : String(err);
  return stack.split('\n').slice(0, lines).join('\n');
}

export function errorName(err: unknown): string {
  return err instanceof Error ? err.name : typeof err;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
