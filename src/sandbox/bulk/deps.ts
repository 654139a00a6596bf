import type { FastifyRequest } from 'fastify';
import type { Logger } from '../../observability/logger.ts';
import type { OrgModel } from '../model/types.ts';

export type IngestOperation = 'insert' | 'update' | 'upsert' | 'delete' | 'hardDelete';
export type QueryOperation = 'query' | 'queryAll';

/**
 * One CSV row handed to the store. Keys are canonical field names ("Name", "Id") or, for
 * lookups by external id, "<relationshipName>.<externalIdField>" ("Account.Shop_Customer_Id__c").
 * A null value sets the field to null (`#N/A` in the CSV); a field left empty in the CSV is absent.
 */
export type BulkRow = Record<string, string | null>;

/** The outcome of one row, in input order: an id on success, or an error as Salesforce writes it in failedResults ("CODE:message:fields --"). */
export interface BulkRowResult {
  id?: string;
  created?: boolean;
  error?: string;
}

/** Flat query rows: parent fields dotted ("Account.Name"); columns in SELECT order, canonical casing. */
export interface BulkQueryResult {
  columns: string[];
  rows: Array<Record<string, unknown>>;
}

type MaybePromise<T> = T | Promise<T>;

/** Which job a batch belongs to. `client` is the `client=` of the Sforce-Call-Options header sent when the job was created ('' if none), for the change events' changeOrigin. */
export interface BulkJobContext {
  jobId: string;
  apiVersion: string;
  client: string;
}

/** What the Bulk API 2.0 routes need from the emulator core (helper A implements it). */
export interface BulkDeps {
  /** Checks the Bearer token; throws the 401 INVALID_SESSION_ID error (anything with status/statusCode and toBody()/errorCode). */
  checkAuth(req: FastifyRequest): MaybePromise<{ userId?: string } | void | undefined>;
  model: OrgModel;
  /**
   * Applies one internal batch (<= batchSize rows) of an ingest job as one transaction and
   * returns one result per row, in order. A thrown error fails every row of the batch.
   */
  applyBulk(
    object: string,
    operation: IngestOperation,
    externalIdFieldName: string | undefined,
    rows: BulkRow[],
    job: BulkJobContext,
  ): Promise<BulkRowResult[]>;
  /** Runs a SOQL query (throws SoqlError for bad queries); see makeBulkQuery for the usual implementation. */
  query(soql: string, includeDeleted: boolean, apiVersion: string): MaybePromise<BulkQueryResult>;
  /** Jobs, uploads and results are kept under `<dataDir>/bulk-jobs/` (they survive a restart). */
  dataDir: string;
  logger: Logger;
  /** Rows per query results page when the client gives no maxRecords (default 50,000). */
  queryPageSize?: number;
  /** Rows per applyBulk call, like Salesforce's internal batches (default 10,000). */
  batchSize?: number;
  /** How long an ingest job just closed waits before it is processed (a fault; 0 or absent: none). Aborting it ends the wait. */
  jobHold?(): number;
  /**
   * A real org's time for a closed ingest job (the latency model), drawn once per job: it waits
   * `queueMs` in UploadComplete, then `perRecordMs` per record InProgress. Absent or zero: at once.
   */
  jobTiming?(): { queueMs: number; perRecordMs: number };
  /** User id reported as createdById when checkAuth returns none. */
  defaultUserId?: string;
}
