import type { IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import type { Registry } from 'prom-client';
import type { Logger } from '../observability/logger.ts';
import type { RuntimeMetrics } from '../observability/metrics.ts';
import type { RetryPolicyInput } from './retry.ts';
import type { StateCodec, StateView } from './state-store.ts';

/** Header carrying the source commit time (ms since epoch) of the change a record stems from. */
export const SOURCE_TIME_HEADER = 'shopforce-source-ts';

/** A record to produce. Without `partition`, the key decides (default partitioner). */
export interface Output {
  topic: string;
  key?: Buffer | string | null;
  value: Buffer | string | null;
  headers?: IHeaders;
  partition?: number;
  /** Record timestamp (ms since epoch, as a string); default now. */
  timestamp?: string;
}

/** What the handler gets for each record. */
export interface RecordContext<T = Buffer | null, S = unknown> {
  topic: string;
  partition: number;
  offset: string;
  /** Kafka record timestamp (ms since epoch, as a string). */
  timestamp: string;
  key: Buffer | null;
  /** The decoded value (see ProcessorOptions.decode). */
  value: T;
  /** Headers as UTF-8 strings. */
  headers: Record<string, string>;
  /** The raw message, for whatever the decoded form leaves out. */
  message: KafkaMessage;
  /** The state of this input partition (only when the processor has `state`). */
  state: StateView<S>;
  /** 1 on the first try, then 2, 3... on retries. */
  attempt: number;
  /** Aborted when the processor stops: long effects should give up. */
  signal: AbortSignal;
  log: Logger;
  /**
   * The source commit time of this change (ms since epoch), for the end-to-end latency metric.
   * Defaults to the `shopforce-source-ts` header when present. Outputs carry it on.
   */
  setSourceTime(ms: number): void;
}

export type Handler<T, S> = (ctx: RecordContext<T, S>) => Promise<Output[] | void>;

/** What a punctuation gets, for one partition. */
export interface PunctuateContext<S = unknown> {
  partition: number;
  /** The partition's state (committed plus pending writes): iterate it with keys()/entries(). */
  state: StateView<S>;
  /** When this punctuation started (ms since epoch). */
  now: number;
  /** True for the last punctuation, on a graceful stop(): flush what is open (e.g. a window). */
  final: boolean;
  log: Logger;
}

/**
 * A periodic call per owned partition, in turn with its records (never at the same time as one
 * of its batches). Its outputs and state writes commit together (one Kafka transaction in
 * transactional mode, without input offsets); if it throws, its state writes are discarded and
 * it runs again on the next tick.
 */
export interface Punctuation<S = unknown> {
  intervalMs: number;
  handle(ctx: PunctuateContext<S>): Promise<Output[]>;
}

/** What a prefetch gets: the decoded values of the records a chunk is about to handle. */
export interface PrefetchContext<T = Buffer | null, S = unknown> {
  topic: string;
  partition: number;
  /** The chunk's values, in offset order (a record that does not decode is left out: it is dead-lettered when handled). */
  values: T[];
  /** The partition's state, to read (writes belong to the handlers). */
  state: StateView<S>;
  signal: AbortSignal;
  log: Logger;
}

/** Fault-injection points for tests: they run inside the transaction, after produce, before commit. */
export interface ProcessorHooks {
  beforeCommit?(info: { topic: string; partition: number; records: number; lastOffset: string }): Promise<void> | void;
  /** A punctuation with something to write (transactional mode). */
  beforePunctuationCommit?(info: { partition: number; final: boolean; outputs: number }): Promise<void> | void;
}

export interface ProcessorOptions<T = Buffer | null, S = unknown> {
  /** Processor name: metric label, log name. */
  name: string;
  kafka: Kafka;
  groupId: string;
  /** Input topics; with several, they must be co-partitioned (same key → same partition number). */
  topics: string[];
  handle: Handler<T, S>;
  /**
   * Topics the handler writes to, checked at start: a missing one fails start() instead of failing
   * every transaction later (topics are never auto-created by the runtime's producers).
   */
  outputTopics?: string[];
  /** Turns the raw message into the handler's value; a throw (after retries) dead-letters the record. Default: the value bytes. */
  decode?: (message: KafkaMessage, topic: string) => T | Promise<T>;
  /** Per-partition state backed by a compacted changelog (default topic `<groupId>.state-changelog`). */
  state?: { changelogTopic?: string; codec?: StateCodec<S> };
  /**
   * true: outputs, state changelog writes and consumed offsets commit in one Kafka transaction
   * (exactly-once inside Kafka). false: outputs and changelog are produced (acks=all, idempotent)
   * and offsets committed after the handler's effects (at-least-once; effects must be idempotent).
   */
  transactional: boolean;
  /** Dead-letter topic (default `sync.dlq`). */
  dlqTopic?: string;
  retry?: RetryPolicyInput;
  /** Maps an error to a retry class (default: classifyError). */
  classifyError?: (err: unknown) => string;
  /** Metrics set or the registry to register it on (default: a private registry). */
  metrics?: RuntimeMetrics | Registry;
  logger?: Logger;
  /** A new group starts at the earliest offset (default true). */
  fromBeginning?: boolean;
  /** Records per transaction / offset commit (default 500). */
  maxRecordsPerCommit?: number;
  /** Partitions processed in parallel by one member (default 1). */
  partitionsConsumedConcurrently?: number;
  /** Transactional ids are `<prefix>.<partition>` (default: groupId). */
  transactionalIdPrefix?: string;
  /** Create the changelog and DLQ topics when missing (default true). */
  createTopics?: boolean;
  /** Replication factor of topics created here (default 1). */
  replicationFactor?: number;
  /** Consumer session timeout (default 30000 ms). */
  sessionTimeout?: number;
  /** Consumer heartbeat interval (default 3000 ms). */
  heartbeatInterval?: number;
  /**
   * Called once before the records of each chunk are handled, with their values: a handler that
   * looks things up outside Kafka fetches them here for the whole chunk in one call, and each
   * record then finds them at hand. A throw is logged and ignored (the handlers look up what they
   * miss themselves). It must not write state.
   */
  prefetch?: (ctx: PrefetchContext<T, S>) => Promise<void>;
  /** Calls `punctuate.handle` every intervalMs for each owned, restored partition, and once more with final=true on stop(). */
  punctuate?: Punctuation<S>;
  hooks?: ProcessorHooks;
  /** The consumer crashed and kafkajs will not restart it (e.g. the process should exit). */
  onFatalError?: (err: Error) => void;
}

export interface Processor {
  readonly name: string;
  start(): Promise<void>;
  /** Stops fetching, finishes the record in hand, commits what is done, leaves the group. */
  stop(): Promise<void>;
  /** Joined the group and every owned partition's state is restored. */
  ready(): boolean;
  /** False once the consumer crashed and kafkajs will not restart it: the stage is dead (/healthz). */
  live(): boolean;
  /** Partition numbers this member owns now. */
  assignedPartitions(): number[];
}
