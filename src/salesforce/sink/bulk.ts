import type { Connection } from 'jsforce';
import { stringify } from 'csv-stringify/sync';
import { flatten, type RecordBody } from './records.ts';
import type { SalesforceErrorInfo } from './types.ts';
import { SinkCallError, withoutCustomerData } from './errors.ts';

/** A row result of a Bulk API 2.0 upsert, by position in the input. */
export type BulkRowResult =
  | { success: true; id: string; created: boolean }
  | { success: false; error: SalesforceErrorInfo };

function cell(v: unknown): string {
  if (v === undefined) return '';
  if (v === null) return '#N/A';
  return String(v);
}

/** Records as a CSV upload: one column per field seen (blank = leave as is, #N/A = null). */
export function toCsv(records: RecordBody[]): string {
  const rows = records.map(flatten);
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return stringify(rows.map((r) => columns.map((c) => cell(r[c]))), { header: true, columns, record_delimiter: 'unix' });
}

/** "REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --" → code, message, fields. */
export function parseBulkError(text: string): SalesforceErrorInfo {
  const trimmed = text.replace(/\s*--\s*$/, '');
  const first = trimmed.indexOf(':');
  if (first < 0) return { errorCode: trimmed || 'UNKNOWN_ERROR', message: trimmed, fields: [] };
  const code = trimmed.slice(0, first);
  let rest = trimmed.slice(first + 1);
  let fields: string[] = [];
  const last = rest.lastIndexOf(':');
  if (last >= 0 && /^[\w,]*$/.test(rest.slice(last + 1))) {
    fields = rest.slice(last + 1).split(',').filter(Boolean);
    rest = rest.slice(0, last);
  }
  return withoutCustomerData({ errorCode: code, message: rest, fields });
}

export interface BulkUpsertOptions {
  pollIntervalMs: number;
  pollTimeoutMs: number;
}

type IngestJob = ReturnType<Connection['bulk2']['createJob']>;

/**
 * Lets go of a job whose wait failed (timed out, or the upload or a check failed): it is aborted, so
 * Salesforce processes none of it beside the retry of its rows. True when the job finished
 * meanwhile (too late to abort): its results can be read.
 */
async function abortJob(job: IngestJob): Promise<boolean> {
  try {
    await job.abort();
    return false;
  } catch {
    // refused: the job finished, or it was never created (nothing to process)
    return await job.check().then((info) => info.state === 'JobComplete', () => false);
  }
}

/** jsforce's error when a job is not done within the poll timeout. */
const isPollTimeout = (err: unknown): boolean => err instanceof Error && /^JobPollingTimeout/.test(err.name);

/**
 * One Bulk API 2.0 upsert job (create, upload CSV, close, poll, read results); results are matched
 * back to the input by external id value. Rows neither succeeded nor failed come back UNPROCESSED.
 * A job not done within pollTimeoutMs is aborted (PATCH state=Aborted) before a transient
 * REQUEST_TIMEOUT is thrown: the retry's job is the only one that writes the rows.
 */
export async function bulkUpsert(conn: Connection, sobject: string, extIdField: string, records: RecordBody[], opts: BulkUpsertOptions): Promise<BulkRowResult[]> {
  const job = conn.bulk2.createJob({ object: sobject, operation: 'upsert', externalIdFieldName: extIdField, lineEnding: 'LF' });
  await job.open();
  try {
    await job.uploadData(toCsv(records));
    await job.close();
    await job.poll(opts.pollIntervalMs, opts.pollTimeoutMs);
  } catch (err) {
    const finished = await abortJob(job);
    if (!finished && isPollTimeout(err)) {
      throw new SinkCallError({ errorCode: 'REQUEST_TIMEOUT', message: `Bulk API job ${job.id} (${sobject}) not done within ${opts.pollTimeoutMs} ms: aborted`, fields: [] }, 'transient', { cause: err });
    }
    if (!finished) throw err;
  }
  const res = await job.getAllResults();
  const byExt = new Map<string, BulkRowResult>();
  for (const row of res.successfulResults as Array<Record<string, unknown>>) {
    byExt.set(String(row[extIdField]), { success: true, id: String(row.sf__Id), created: String(row.sf__Created) === 'true' });
  }
  for (const row of res.failedResults as Array<Record<string, unknown>>) {
    byExt.set(String(row[extIdField]), { success: false, error: parseBulkError(String(row.sf__Error ?? '')) });
  }
  return records.map((r) => byExt.get(String(r[extIdField])) ?? {
    success: false, error: { errorCode: 'UNPROCESSED', message: `Bulk API job left ${sobject} ${String(r[extIdField])} unprocessed`, fields: [] },
  });
}
