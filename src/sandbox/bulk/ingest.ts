import type { FieldDef, ObjectDef, OrgModel } from '../model/types.ts';
import { NULL_MARKER, parseCsv } from './csv.ts';
import type { BulkDeps, BulkRow, BulkRowResult } from './deps.ts';
import type { JobStore } from './job-store.ts';
import { sfTimestamp, type IngestJob, type IngestResults, type IngestRowOutcome } from './jobs.ts';

const SYSTEM_COLUMNS = ['Id'];

/** Thrown when the whole job cannot be processed (bad CSV, unknown column): the job ends Failed. */
class InvalidBatch extends Error {}

/** How an ingest job is processed beyond its rows: a real org's time per record, and when to stop. */
export interface ProcessingOptions {
  /** The org's time per record (latency model): each internal batch lands when its share has passed. */
  perRecordMs?: number;
  /** True once the emulator is shutting down: a job being processed stops between batches (left InProgress). */
  closing?: () => boolean;
}

/**
 * Processes an ingest job that reached UploadComplete: parses its uploads, checks the header,
 * applies the rows in internal batches and records the outcome of every row.
 * Stops between batches when the job was aborted; rows not reached stay unprocessed.
 */
export async function processIngestJob(jobId: string, store: JobStore, deps: BulkDeps, opts: ProcessingOptions = {}): Promise<void> {
  const started = Date.now();
  const initial = store.get(jobId);
  if (!initial || initial.kind !== 'ingest' || initial.state !== 'UploadComplete') return;
  let job: IngestJob = { ...initial, state: 'InProgress', systemModstamp: sfTimestamp() };
  store.save(job);

  const results: IngestResults = { header: [], rows: [] };
  try {
    const parsed = readUploads(job, store);
    results.header = parsed.header;
    results.rows = parsed.rows.map((values) => ({ values, processed: false }));
    const objectDef = findObject(deps.model, job.object);
    const columns = canonicalColumns(parsed.header, objectDef, deps.model, job);
    const batchSize = deps.batchSize ?? 10_000;
    for (let start = 0; start < results.rows.length; start += batchSize) {
      const current = store.get(jobId);
      if (!current || current.state === 'Aborted') break;
      const slice = results.rows.slice(start, start + batchSize);
      const ms = (opts.perRecordMs ?? 0) * slice.length;
      if (ms > 0) {
        await sleepWhile(ms, () => store.get(jobId)?.state === 'InProgress' && !opts.closing?.());
        if (opts.closing?.()) return;
        if (store.get(jobId)?.state !== 'InProgress') break;
      }
      const outcomes = await applyBatch(job, slice.map((row) => toBulkRow(row.values, columns, job)), deps);
      slice.forEach((row, i) => Object.assign(row, outcomes[i], { processed: true }));
      const processed = start + slice.length;
      const after = store.get(jobId) as IngestJob | undefined;
      if (!after) return; // deleted while processing
      job = {
        ...after,
        numberRecordsProcessed: processed,
        numberRecordsFailed: results.rows.slice(0, processed).filter((r) => r.error !== undefined).length,
        systemModstamp: sfTimestamp(),
      };
      store.save(job);
    }
    const latest = store.get(jobId) as IngestJob | undefined;
    if (!latest) return;
    const elapsed = Date.now() - started;
    job = {
      ...latest,
      state: latest.state === 'Aborted' ? 'Aborted' : 'JobComplete',
      totalProcessingTime: elapsed,
      apiActiveProcessingTime: elapsed,
      systemModstamp: sfTimestamp(),
    };
  } catch (error) {
    const latest = store.get(jobId) as IngestJob | undefined;
    if (!latest) return;
    const message = error instanceof InvalidBatch ? `InvalidBatch : ${error.message}` : `UNKNOWN_EXCEPTION : ${(error as Error).message}`;
    deps.logger.warn({ jobId, object: job.object, err: error }, 'bulk ingest job failed');
    job = { ...latest, state: 'Failed', errorMessage: message, totalProcessingTime: Date.now() - started, systemModstamp: sfTimestamp() };
  }
  store.saveResults(jobId, results);
  store.save(job);
  deps.logger.info({ jobId, object: job.object, operation: job.operation, state: job.state,
    processed: job.numberRecordsProcessed, failed: job.numberRecordsFailed }, 'bulk ingest job finished');
}

/** Waits `ms`, in steps, or less once `go` turns false (the job aborted, the emulator closing). */
export async function sleepWhile(ms: number, go: () => boolean): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until && go()) {
    await new Promise((r) => setTimeout(r, Math.min(50, until - Date.now())));
  }
}

function readUploads(job: IngestJob, store: JobStore): { header: string[]; rows: string[][] } {
  let header: string[] | undefined;
  const rows: string[][] = [];
  for (const [index, text] of store.uploads(job.id, job.uploads).entries()) {
    let parsed;
    try {
      parsed = parseCsv(text, job);
    } catch (error) {
      throw new InvalidBatch(`Failed to parse CSV of upload ${index + 1}: ${(error as Error).message}`);
    }
    if (header && parsed.header.join('\u0000') !== header.join('\u0000')) {
      throw new InvalidBatch(`upload ${index + 1} has a different header from the first upload`);
    }
    header = parsed.header;
    rows.push(...parsed.rows);
  }
  if (!header || header.length === 0) throw new InvalidBatch('Wrong number of columns or no header row in the uploaded data');
  return { header, rows };
}

function findObject(model: OrgModel, name: string): ObjectDef {
  const found = model.objects.find((object) => object.name === name);
  if (!found) throw new InvalidBatch(`Unable to find object: ${name}`);
  return found;
}

function findField(object: ObjectDef, name: string): FieldDef | undefined {
  const lower = name.toLowerCase();
  return object.fields.find((field) => field.name.toLowerCase() === lower);
}

/**
 * Maps header names to canonical ones: "name" → "Name", "account.shop_customer_id__c" →
 * "Account.Shop_Customer_Id__c" (a lookup by external id). Unknown columns fail the job as Salesforce does.
 */
function canonicalColumns(header: string[], object: ObjectDef, model: OrgModel, job: IngestJob): string[] {
  const columns = header.map((name) => {
    if (SYSTEM_COLUMNS.some((c) => c.toLowerCase() === name.toLowerCase())) return 'Id';
    if (job.operation === 'delete' || job.operation === 'hardDelete') return name;
    const dot = name.indexOf('.');
    if (dot < 0) {
      const field = findField(object, name);
      if (!field) throw new InvalidBatch(`Field name not found : ${name}`);
      return field.name;
    }
    const relationship = name.slice(0, dot).toLowerCase();
    const lookup = object.fields.find((f) => f.type === 'reference' && f.relationshipName?.toLowerCase() === relationship);
    const parent = model.objects.find((o) => o.name === lookup?.referenceTo?.[0]);
    const parentField = parent ? (name.slice(dot + 1).toLowerCase() === 'id' ? { name: 'Id' } : findField(parent, name.slice(dot + 1))) : undefined;
    if (!lookup || !parentField) throw new InvalidBatch(`Field name not found : ${name}`);
    return `${lookup.relationshipName}.${parentField.name}`;
  });
  const need = job.operation === 'upsert' ? job.externalIdFieldName ?? 'Id' : job.operation === 'insert' ? undefined : 'Id';
  if (need && !columns.some((c) => c.toLowerCase() === need.toLowerCase())) {
    throw new InvalidBatch(`Field name not found : ${need}. The ${job.operation} operation needs the column ${need}`);
  }
  return columns;
}

function toBulkRow(values: string[], columns: string[], job: IngestJob): BulkRow {
  const row: BulkRow = {};
  const deleting = job.operation === 'delete' || job.operation === 'hardDelete';
  columns.forEach((column, i) => {
    if (deleting && column !== 'Id') return;
    const raw = values[i] ?? '';
    if (raw === '') return; // empty: leave the field as it is
    row[column] = raw === NULL_MARKER ? null : raw;
  });
  // jsforce sends an Id column (#N/A) on upsert by external id: that is not an Id to match on
  if (job.operation === 'upsert' && job.externalIdFieldName !== 'Id' && row.Id === null) delete row.Id;
  if (job.operation === 'insert' && row.Id === null) delete row.Id;
  return row;
}

async function applyBatch(job: IngestJob, rows: BulkRow[], deps: BulkDeps): Promise<Array<Omit<IngestRowOutcome, 'values' | 'processed'>>> {
  let results: BulkRowResult[];
  try {
    results = await deps.applyBulk(job.object, job.operation, job.externalIdFieldName, rows, { jobId: job.id, apiVersion: job.apiVersion, client: job.client ?? '' });
  } catch (error) {
    const err = error as { toBulkError?: () => string; errorCode?: string; message?: string };
    const text = typeof err.toBulkError === 'function'
      ? err.toBulkError()
      : `${err.errorCode ?? 'UNKNOWN_EXCEPTION'}:${err.message ?? String(error)}: --`;
    return rows.map(() => ({ error: text }));
  }
  return rows.map((_, i) => {
    const result = results[i];
    if (!result) return { error: 'UNKNOWN_EXCEPTION:no result for this row: --' };
    if (result.error !== undefined) return { error: result.error, ...(result.id ? { id: result.id } : {}) };
    return { id: result.id, created: result.created ?? job.operation === 'insert' };
  });
}
