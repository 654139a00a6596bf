import type { ColumnDelimiter, LineEnding } from './csv.ts';
import type { IngestOperation, QueryOperation } from './deps.ts';

export type JobState = 'Open' | 'UploadComplete' | 'InProgress' | 'JobComplete' | 'Failed' | 'Aborted';

interface JobBase {
  id: string;
  object: string;
  state: JobState;
  createdById: string;
  createdDate: string;
  systemModstamp: string;
  apiVersion: string;           // "60.0"
  lineEnding: LineEnding;
  columnDelimiter: ColumnDelimiter;
  numberRecordsProcessed: number;
  retries: number;
  totalProcessingTime: number;
  errorMessage?: string;
}

export interface IngestJob extends JobBase {
  kind: 'ingest';
  operation: IngestOperation;
  externalIdFieldName?: string;
  /** `client=` of the creating request's Sforce-Call-Options header. */
  client?: string;
  numberRecordsFailed: number;
  apiActiveProcessingTime: number;
  apexProcessingTime: number;
  /** How many CSV uploads (PUT /batches) the job holds. */
  uploads: number;
  uploadBytes: number;
}

export interface QueryJob extends JobBase {
  kind: 'query';
  operation: QueryOperation;
  query: string;
}

export type Job = IngestJob | QueryJob;

/** One input row of an ingest job and what became of it. */
export interface IngestRowOutcome {
  values: string[];
  processed: boolean;
  id?: string;
  created?: boolean;
  error?: string;
}

export interface IngestResults {
  header: string[];
  rows: IngestRowOutcome[];
}

/** Salesforce's timestamp form in job info: 2026-01-02T03:04:05.000+0000 */
export function sfTimestamp(ms = Date.now()): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

/** The job info object the API returns (internal bookkeeping left out). */
export function jobInfo(job: Job): Record<string, unknown> {
  const common = {
    id: job.id,
    operation: job.operation,
    object: job.object,
    createdById: job.createdById,
    createdDate: job.createdDate,
    systemModstamp: job.systemModstamp,
    state: job.state,
  };
  const version = Number(job.apiVersion);
  if (job.kind === 'ingest') {
    return {
      ...common,
      ...(job.externalIdFieldName ? { externalIdFieldName: job.externalIdFieldName } : {}),
      concurrencyMode: 'Parallel',
      contentType: 'CSV',
      apiVersion: version,
      jobType: 'V2Ingest',
      contentUrl: `services/data/v${job.apiVersion}/jobs/ingest/${job.id}/batches`,
      lineEnding: job.lineEnding,
      columnDelimiter: job.columnDelimiter,
      numberRecordsProcessed: job.numberRecordsProcessed,
      numberRecordsFailed: job.numberRecordsFailed,
      retries: job.retries,
      totalProcessingTime: job.totalProcessingTime,
      apiActiveProcessingTime: job.apiActiveProcessingTime,
      apexProcessingTime: job.apexProcessingTime,
      ...(job.errorMessage ? { errorMessage: job.errorMessage } : {}),
    };
  }
  return {
    ...common,
    concurrencyMode: 'Parallel',
    contentType: 'CSV',
    apiVersion: version,
    jobType: 'V2Query',
    lineEnding: job.lineEnding,
    columnDelimiter: job.columnDelimiter,
    numberRecordsProcessed: job.numberRecordsProcessed,
    retries: job.retries,
    totalProcessingTime: job.totalProcessingTime,
    ...(job.errorMessage ? { errorMessage: job.errorMessage } : {}),
  };
}
