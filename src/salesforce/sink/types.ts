import type { Connection } from 'jsforce';
import type { Registry } from 'prom-client';
import type { ShopforceConfig } from '../../config/schema.ts';
import type { Logger } from '../../observability/logger.ts';
import type { SalesforceWrite } from '../../entities/types.ts';

export type SinkConfig = ShopforceConfig['sink'];

/** One Salesforce error as the API reports it (per record in collections, or for a whole call). */
export interface SalesforceErrorInfo {
  errorCode: string;
  message: string;
  fields: string[];
}

/** The final (or, for `parked`, interim) result of one write command. */
export type WriteOutcome =
  | { status: 'applied'; command: SalesforceWrite; id: string; created: boolean; api: 'collections' | 'bulk' }
  /** The record already holds these values (last write remembered), or a delete of a record that is not there. */
  | { status: 'skipped'; command: SalesforceWrite; reason: 'unchanged' | 'not-found'; id?: string }
  /** Superseded by a later command for the same record inside the linger window; its fields were merged into it. */
  | { status: 'coalesced'; command: SalesforceWrite; supersededBy: string }
  /** A parent is missing: kept and retried; the final outcome comes later through `onLateOutcome`. */
  | { status: 'parked'; command: SalesforceWrite; parent: ParentRef; error: SalesforceErrorInfo }
  /** Transient trouble that outlived the retries (5xx, UNABLE_TO_LOCK_ROW, timeouts, network): replay later. */
  | { status: 'retryable'; command: SalesforceWrite; error: SalesforceErrorInfo; attempts: number }
  /** Salesforce refused the record (validation), or its parent never arrived: send to the DLQ with this reason. */
  | { status: 'failed'; command: SalesforceWrite; error: SalesforceErrorInfo; reason: string };

export type OutcomeStatus = WriteOutcome['status'];

/** A parent record by external id (what a child waits for when parked). */
export interface ParentRef {
  sobject: string;
  externalIdField: string;
  externalId: string;
  /** How a reason names it when that is not `<sobject> <externalId>` (a price book entry is found by its product's SKU). */
  label?: string;
}

export type QuotaMode = 'normal' | 'throttled' | 'exhausted';

export interface QuotaState {
  mode: QuotaMode;
  /** From the last Sforce-Limit-Info header (undefined before the first call). */
  used?: number;
  limit?: number;
  remainingPercent?: number;
  /** Delay added before each flush while throttled. */
  delayMs: number;
  /** When exhausted: the time of the next probe call (epoch ms). */
  nextProbeAt?: number;
  /** Set while a flush is held by the throttle: when it goes (epoch ms). */
  heldUntil?: number;
}

export interface SinkOptions {
  /** A logged-in jsforce connection (connectSalesforce). */
  conn: Connection;
  /** The `sink` section of the config (lingerMs, batchSize, bulkThreshold, quotaReservePercent, parentTimeoutMs, maxRetries). */
  config: SinkConfig;
  logger?: Logger;
  /** prom-client registry: counters of API calls, saved calls, outcomes; flush latency. */
  registry?: Registry;
  /** Final outcome of a command reported `parked` earlier (applied, or failed: parent never arrived). */
  onLateOutcome?: (outcome: WriteOutcome) => void;
  /** Tuning beyond the config file (tests, benchmarks). */
  tuning?: Partial<SinkTuning>;
}

export interface SinkTuning {
  /** First retry delay; doubles each attempt (p-retry). */
  retryMinDelayMs: number;
  retryMaxDelayMs: number;
  /** A call taking longer than this is abandoned and retried (upserts are idempotent). */
  requestTimeoutMs: number;
  /** Longest delay before a flush while throttled (at 0% remaining). */
  throttleMaxDelayMs: number;
  /** After REQUEST_LIMIT_EXCEEDED: no call before this much time has passed; then one flush probes. */
  quotaProbeIntervalMs: number;
  /** Parked children are retried at most this often when no parent write of theirs landed here. */
  parkedRetryMs: number;
  /** Entries of the last-written-values cache (skip unchanged writes). */
  writtenCacheSize: number;
  /** A remembered written value older than this is not trusted to skip a write. */
  writtenCacheTtlMs: number;
  /** Entries of the external id → Salesforce id and SKU → PricebookEntry caches. */
  idCacheSize: number;
  /** Salesforce's limit on requests of 20 s or longer running at once in an org (Concurrent API Request Limits). */
  maxLongRequests: number;
  /** A call running this long may become a long request: no call beyond maxLongRequests starts meanwhile. */
  slowCallMs: number;
  /** Bulk API 2.0 job polling. */
  bulkPollIntervalMs: number;
  bulkPollTimeoutMs: number;
  /**
   * Lookups Salesforce accepts on create but not on update (master-detail, junctions): left out of
   * the upsert body when the record is known to exist, or after INVALID_FIELD_FOR_INSERT_UPDATE.
   */
  createOnlyFields: Record<string, string[]>;
}

export const DEFAULT_TUNING: SinkTuning = {
  retryMinDelayMs: 200,
  retryMaxDelayMs: 10_000,
  requestTimeoutMs: 120_000,
  throttleMaxDelayMs: 30_000,
  quotaProbeIntervalMs: 60_000,
  parkedRetryMs: 5_000,
  writtenCacheSize: 100_000,
  writtenCacheTtlMs: 15 * 60_000,
  idCacheSize: 100_000,
  maxLongRequests: 25,
  slowCallMs: 10_000,
  bulkPollIntervalMs: 1_000,
  bulkPollTimeoutMs: 600_000,
  createOnlyFields: {
    OpportunityLineItem: ['OpportunityId', 'PricebookEntryId', 'Product2Id'],
    PricebookEntry: ['Pricebook2Id', 'Product2Id'],
    CampaignMember: ['CampaignId', 'ContactId', 'LeadId'],
  },
};

export interface SalesforceSink {
  /**
   * Queues commands; resolves with one outcome per command, in input order, once each has one
   * (after the linger window and the flush that carries it).
   */
  write(commands: SalesforceWrite[]): Promise<WriteOutcome[]>;
  /** Flushes what is pending now (ignores the linger window) and waits for it. */
  flush(): Promise<void>;
  /**
   * Flushes now and waits until every write() made before this call has its outcome: lets a
   * record-by-record handler submit without awaiting, then wait once before committing offsets.
   */
  drain(): Promise<void>;
  /** Commands waiting for a parent. */
  parked(): SalesforceWrite[];
  /**
   * Lets go of a parked command (its caller no longer owns it, e.g. its Kafka partition went to
   * another member): it is not retried nor reported any more. False when it is not parked here.
   */
  abandon(commandId: string): boolean;
  quotaState(): QuotaState;
  /** Forget the remembered values of a record (e.g. it was edited in Salesforce), so the next write is sent. */
  forget(sobject: string, externalIdField: string, externalId: string): void;
  /** Flushes, then reports still-parked commands as retryable ("sink closed") and stops timers. */
  close(): Promise<void>;
}
