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

/**
 * The stage cannot work until something outside the record is fixed: a permission, a column, a
 * session, a dependency that is down. Class `infrastructure`: the stage pauses (see StagePause)
 * and tries again with backoff; the record is valid and never goes to the dead-letter topic.
 */
export class InfraError extends Error {
  readonly errorClass: string = 'infrastructure';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InfraError';
  }
}

/**
 * PostgreSQL errors of the environment, not of a row: privileges (42501), a missing column, table
 * or function (42703, 42P01, 42883), a statement timeout or cancel (57014), a read-only
 * database (25006), login refused (28000, 28P01), a database that does not exist (3D000).
 */
const INFRA_SQLSTATES = new Set(['42501', '42703', '42P01', '42883', '57014', '25006', '28000', '28P01', '3D000']);

/**
 * Salesforce errors of the org's set-up or of our access to it, not of a record's values: a field
 * unknown or not writable for the connected user, an object not accessible, a session that could not
 * be renewed, the API switched off.
 */
const INFRA_SALESFORCE_CODES = new Set([
  'INVALID_FIELD', 'INVALID_FIELD_FOR_INSERT_UPDATE', 'INSUFFICIENT_ACCESS', 'INSUFFICIENT_ACCESS_OR_READONLY',
  'INVALID_TYPE', 'INVALID_SESSION_ID', 'INVALID_AUTH_HEADER', 'invalid_grant', 'API_DISABLED_FOR_ORG',
  'API_CURRENTLY_DISABLED', 'INVALID_OPERATION_WITH_EXPIRED_PASSWORD',
]);

/** A Salesforce error code (sObject Collections `statusCode`, REST `errorCode`) that pauses the stage. */
export function isInfrastructureSalesforceCode(code: string): boolean {
  return INFRA_SALESFORCE_CODES.has(code);
}

/** A PostgreSQL SQLSTATE that pauses the stage. */
export function isInfrastructureSqlState(code: string): boolean {
  return INFRA_SQLSTATES.has(code);
}

const TRANSIENT_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH',
  'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT',
  '40001', '40P01', '57P01', // PostgreSQL: serialization failure, deadlock, admin shutdown
]);

/**
 * The retry class of an error: its own `errorClass` when it has one, `infrastructure` for the
 * PostgreSQL and Salesforce errors of the environment (above), `transient` for network errors and
 * retriable Kafka errors, otherwise `fatal` (not retried by the default policy).
 */
export function classifyError(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { errorClass?: unknown; code?: unknown; retriable?: unknown; name?: unknown; cause?: unknown };
    if (typeof e.errorClass === 'string') return e.errorClass;
    if (typeof e.code === 'string' && isInfrastructureSqlState(e.code)) return 'infrastructure';
    const sfCode = (err as { errorCode?: unknown }).errorCode;
    if (typeof sfCode === 'string' && isInfrastructureSalesforceCode(sfCode)) return 'infrastructure';
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
