import { isInfrastructureSalesforceCode } from '../../kafka/errors.ts';
import type { ParentRef, SalesforceErrorInfo } from './types.ts';
import type { SalesforceWrite } from '../../entities/types.ts';

/** What the sink does with an error. */
export type ErrorClass = 'transient' | 'quota' | 'parent-missing' | 'infrastructure' | 'permanent';

/** Codes worth another try: server trouble, row locks, timeouts. */
const TRANSIENT_CODES = new Set([
  'SERVER_UNAVAILABLE', 'UNKNOWN_EXCEPTION', 'UNABLE_TO_LOCK_ROW', 'QUERY_TIMEOUT', 'REQUEST_RUNNING_TOO_LONG',
  'ERROR_HTTP_500', 'ERROR_HTTP_502', 'ERROR_HTTP_503', 'ERROR_HTTP_504', 'ERROR_HTTP_429', 'REQUEST_TIMEOUT',
  'JobPollingTimeoutError', 'UNPROCESSED',
  // a session that expired is renewed on the next try; one that cannot be renewed pauses the stage (see isInfrastructure)
  'INVALID_SESSION_ID', 'INVALID_AUTH_HEADER', 'invalid_grant', 'SESSION_REFRESH_FAILED',
]);

/**
 * jsforce's words when renewing an expired session failed; it keeps only the message, into which
 * connectSalesforce puts Salesforce's code (`invalid_grant: inactive user`). Without a code (the
 * login URL did not answer) it is SESSION_REFRESH_FAILED: the call's trouble, never the record's.
 */
const REFRESH_FAILED = /^Unable to refresh session due to: (?:([a-z]+(?:_[a-z]+)*|[A-Z]+(?:_[A-Z]+)*): )?/;

/** Network failures of node-fetch / undici. */
const NETWORK_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ENOTFOUND', 'ENETDOWN', 'ENETUNREACH', 'EHOSTDOWN', 'EHOSTUNREACH', 'ETIMEDOUT',
  'EPIPE', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT',
]);

const FOREIGN_KEY_NOT_FOUND = /Foreign key external ID: (.*) not found for field (\S+) in entity (\S+)/;

/**
 * Transient codes Salesforce gives one record (in its save result), not the call: the record's own
 * trouble (its row stays locked). The batch sink isolates such a record and dead-letters it once
 * its retries are spent; every other transient code is the call's and holds the stage instead.
 */
const RECORD_TRANSIENT_CODES = new Set(['UNABLE_TO_LOCK_ROW']);

export function isRecordTransient(error: SalesforceErrorInfo): boolean {
  return RECORD_TRANSIENT_CODES.has(error.errorCode);
}

/**
 * REQUEST_LIMIT_EXCEEDED also refuses a request when the org already runs its 25 long requests
 * ("ConcurrentPerOrgLongTxn Limit exceeded"): that passes as those end, unlike the daily quota.
 */
const CONCURRENT_LONG_REQUESTS = /ConcurrentPerOrgLongTxn/i;

export function classify(error: SalesforceErrorInfo): ErrorClass {
  if (error.errorCode === 'REQUEST_LIMIT_EXCEEDED') return CONCURRENT_LONG_REQUESTS.test(error.message) ? 'transient' : 'quota';
  if (TRANSIENT_CODES.has(error.errorCode) || NETWORK_CODES.has(error.errorCode)) return 'transient';
  // a parent not there yet comes as INVALID_FIELD too ("Foreign key external ID: ... not found"): it is the record's
  if (error.errorCode === 'INVALID_CROSS_REFERENCE_KEY' || FOREIGN_KEY_NOT_FOUND.test(error.message)) return 'parent-missing';
  if (isInfrastructureSalesforceCode(error.errorCode)) return 'infrastructure';
  return 'permanent';
}

/** A Salesforce call that failed for the org's sake, not the request's: 5xx, network, timeout, quota, or its set-up. */
export function isSalesforceOutage(err: unknown): boolean {
  return classify(errorInfo(err)) !== 'permanent' && classify(errorInfo(err)) !== 'parent-missing';
}

/**
 * Salesforce errors whose message repeats the refused value ("Email: invalid email address: jane@@x"):
 * the value is customer data, so the message kept (logs, audit, dead-letter reason) names the problem
 * and the field only.
 */
const VALUE_ERRORS: Record<string, string> = {
  INVALID_EMAIL_ADDRESS: 'invalid e-mail',
  STRING_TOO_LONG: 'value too long',
  INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST: 'value not in the restricted picklist',
  INVALID_TYPE_ON_FIELD_IN_RECORD: 'value of the wrong type',
  NUMBER_OUTSIDE_VALID_RANGE: 'number out of range',
  JSON_PARSER_ERROR: 'value Salesforce could not parse',
  FIELD_INTEGRITY_EXCEPTION: 'value refused',
  INVALID_FIELD_FOR_INSERT_UPDATE_VALUE: 'value refused',
  DUPLICATE_VALUE: 'duplicate value',
};

/** The error with a message free of customer data: for value errors, what is wrong and in which field. */
export function withoutCustomerData(info: SalesforceErrorInfo): SalesforceErrorInfo {
  const what = VALUE_ERRORS[info.errorCode];
  if (!what) return info;
  return { ...info, message: `${what} in field ${info.fields.join(', ') || '(not named)'}` };
}

/** A thrown error (jsforce HttpApiError, fetch error, timeout) in Salesforce's terms. */
export function errorInfo(err: unknown): SalesforceErrorInfo {
  const e = err as { errorCode?: unknown; code?: unknown; name?: unknown; message?: unknown; data?: { fields?: unknown } };
  // the HTTP layer gave up waiting and closed the request (jsforce's timeout): worth another try
  if (e.name === 'AbortError') return { errorCode: 'REQUEST_TIMEOUT', message: `no answer in time, request cancelled: ${String(e.message)}`, fields: [] };
  const refresh = typeof e.message === 'string' ? REFRESH_FAILED.exec(e.message) : null;
  if (refresh) return { errorCode: refresh[1] ?? 'SESSION_REFRESH_FAILED', message: e.message as string, fields: [] };
  const code = typeof e.errorCode === 'string' ? e.errorCode
    : typeof e.code === 'string' ? e.code
      : typeof e.name === 'string' && e.name !== 'Error' ? e.name : 'UNKNOWN_ERROR';
  const fields = Array.isArray(e.data?.fields) ? e.data.fields.map(String) : [];
  return withoutCustomerData({ errorCode: code, message: typeof e.message === 'string' ? e.message : String(err), fields });
}

/** A per-record error of an sObject Collections result (`statusCode`) or a REST error body (`errorCode`). */
export function recordError(raw: unknown): SalesforceErrorInfo {
  const r = (raw ?? {}) as { statusCode?: unknown; errorCode?: unknown; message?: unknown; fields?: unknown };
  return withoutCustomerData({
    errorCode: String(r.statusCode ?? r.errorCode ?? 'UNKNOWN_ERROR'),
    message: String(r.message ?? ''),
    fields: Array.isArray(r.fields) ? r.fields.map(String) : [],
  });
}

/** Thrown by a call that may be retried; carries the Salesforce error. */
export class SinkCallError extends Error {
  constructor(readonly info: SalesforceErrorInfo, readonly kind: ErrorClass, options?: ErrorOptions) {
    super(`${info.errorCode}: ${info.message}`, options);
    this.name = 'SinkCallError';
  }
}

/** Which parent of `cmd` an error names (the foreign key message, or the field list), else its first parent. */
export function missingParent(cmd: SalesforceWrite, error: SalesforceErrorInfo): ParentRef | undefined {
  const m = FOREIGN_KEY_NOT_FOUND.exec(error.message);
  if (m) {
    const [, value, field, entity] = m;
    const ref = cmd.references.find((r) => r.sobject === entity && r.externalIdField === field && r.externalId === value)
      ?? cmd.references.find((r) => r.sobject === entity);
    if (ref) return { sobject: ref.sobject, externalIdField: ref.externalIdField, externalId: ref.externalId };
    return { sobject: entity!, externalIdField: field!, externalId: value! };
  }
  const byField = cmd.references.find((r) => error.fields.includes(r.field)) ?? cmd.references[0];
  return byField ? { sobject: byField.sobject, externalIdField: byField.externalIdField, externalId: byField.externalId } : undefined;
}
