/** Salesforce error codes a query can fail with. */
export type SoqlErrorCode = 'MALFORMED_QUERY' | 'INVALID_FIELD' | 'INVALID_TYPE' | 'INVALID_QUERY_FILTER_OPERATOR';

/**
 * A query refused the way Salesforce refuses it: REST answers 400 `[{ errorCode, message }]`.
 * `position` is the 0-based offset in the query text where the problem was found (when known).
 */
export class SoqlError extends Error {
  readonly errorCode: SoqlErrorCode;
  readonly position: number | undefined;

  constructor(errorCode: SoqlErrorCode, message: string, position?: number) {
    super(message);
    this.name = 'SoqlError';
    this.errorCode = errorCode;
    this.position = position;
  }

  /** The body REST and Bulk answer with. */
  toJSON(): Array<{ errorCode: string; message: string }> {
    return [{ errorCode: this.errorCode, message: this.message }];
  }
}

/**
 * Salesforce prefixes query errors with the query, a caret under the culprit and
 * "ERROR at Row:r:Column:c"; this builds that message for a position in `text`.
 */
export function located(text: string, position: number, detail: string): string {
  const before = text.slice(0, position);
  const row = before.split('\n').length;
  const lineStart = before.lastIndexOf('\n') + 1;
  const column = position - lineStart + 1;
  const line = text.split('\n')[row - 1] ?? '';
  return `\n${line}\n${' '.repeat(column - 1)}^\nERROR at Row:${row}:Column:${column}\n${detail}`;
}
