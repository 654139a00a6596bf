import { SoqlError } from '../soql/errors.ts';

/** A Bulk API 2.0 refusal: answered with `status` and `[{ errorCode, message }]`. */
export class BulkApiError extends Error {
  constructor(readonly status: number, readonly errorCode: string, message: string) {
    super(message);
    this.name = 'BulkApiError';
  }

  toBody(): Array<{ errorCode: string; message: string }> {
    return [{ errorCode: this.errorCode, message: this.message }];
  }
}

export const jobNotFound = (id: string): BulkApiError =>
  new BulkApiError(404, 'NOT_FOUND', `The requested resource does not exist (job ${id})`);

/** Any error → the HTTP status and Salesforce-style body the client gets. */
export function toHttpError(error: unknown): { status: number; body: unknown } {
  const err = error as {
    status?: unknown; statusCode?: unknown; errorCode?: unknown; code?: unknown; message?: unknown;
    toBody?: () => unknown;
  };
  const message = typeof err?.message === 'string' ? err.message : String(error);
  const status = typeof err?.status === 'number' ? err.status : typeof err?.statusCode === 'number' ? err.statusCode : undefined;
  if (typeof err?.toBody === 'function') return { status: status ?? 400, body: err.toBody() };
  if (error instanceof SoqlError) return { status: 400, body: error.toJSON() };
  if (typeof err?.errorCode === 'string') return { status: status ?? 400, body: [{ errorCode: err.errorCode, message }] };
  if (status === 413 || err?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return { status: 413, body: [{ errorCode: 'REQUEST_ENTITY_TOO_LARGE', message: 'The upload exceeds the 150 MB limit of one job data upload' }] };
  }
  if (err?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return { status: 415, body: [{ errorCode: 'UNSUPPORTEDCONTENTTYPE', message }] };
  if (status !== undefined && status >= 400 && status < 500) {
    const code = /JSON/i.test(message) ? 'JSON_PARSER_ERROR' : 'INVALIDJOB';
    return { status, body: [{ errorCode: code, message }] };
  }
  return { status: 500, body: [{ errorCode: 'UNKNOWN_EXCEPTION', message }] };
}
