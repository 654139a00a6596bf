/** A refusal in Salesforce's terms: REST answers `status` with `[{ message, errorCode, fields }]`. */
export class SfError extends Error {
  constructor(
    readonly errorCode: string,
    message: string,
    readonly fields: string[] = [],
    readonly status = 400,
  ) {
    super(message);
    this.name = 'SfError';
  }

  /** The REST body (`errorCode`); sObject Collections use `statusCode` (see toCollectionError). */
  toBody(): Array<{ message: string; errorCode: string; fields?: string[] }> {
    return [{ message: this.message, errorCode: this.errorCode, ...(this.fields.length ? { fields: this.fields } : {}) }];
  }

  toCollectionError(): { statusCode: string; message: string; fields: string[] } {
    return { statusCode: this.errorCode, message: this.message, fields: this.fields };
  }

  /** Bulk API 2.0 failedResults form: "CODE:message:Field1,Field2 --". */
  toBulkError(): string {
    return `${this.errorCode}:${this.message}:${this.fields.join(',')} --`;
  }
}

export const notFound = (): SfError => new SfError('NOT_FOUND', 'The requested resource does not exist', [], 404);
