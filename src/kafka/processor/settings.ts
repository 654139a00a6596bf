import type { Kafka, KafkaMessage } from 'kafkajs';
import { Registry } from 'prom-client';
import { createLogger, type Logger } from '../../observability/logger.ts';
import { runtimeMetrics, type RuntimeMetrics } from '../../observability/metrics.ts';
import { classifyError } from '../errors.ts';
import { parseRetryPolicy, type RetryPolicy } from '../retry.ts';
import { jsonCodec, type StateCodec } from '../state-store.ts';
import { changelogTopicFor, DLQ_TOPIC } from '../topics.ts';
import type { ProcessorHooks, ProcessorOptions } from '../types.ts';

/** ProcessorOptions with every default filled in: what the parts of a processor share. */
export interface ProcessorSettings<T, S> {
  readonly opts: ProcessorOptions<T, S>;
  readonly name: string;
  readonly kafka: Kafka;
  readonly groupId: string;
  readonly topics: string[];
  readonly transactional: boolean;
  readonly hooks: ProcessorHooks | undefined;
  readonly log: Logger;
  readonly metrics: RuntimeMetrics;
  /** The `processor` metric label. */
  readonly label: { processor: string };
  readonly policy: RetryPolicy;
  readonly classify: (err: unknown) => string;
  readonly decode: (message: KafkaMessage, topic: string) => T | Promise<T>;
  readonly dlqTopic: string;
  /** Set when the processor has state. */
  readonly changelogTopic: string | undefined;
  readonly codec: StateCodec<S>;
  readonly maxPerCommit: number;
  readonly heartbeatInterval: number;
  /** Transactional ids are `<txPrefix>.<partition>`. */
  readonly txPrefix: string;
}

export function resolveSettings<T, S>(opts: ProcessorOptions<T, S>): ProcessorSettings<T, S> {
  if (opts.topics.length === 0) throw new Error(`processor ${opts.name}: no input topics`);
  return {
    opts,
    name: opts.name,
    kafka: opts.kafka,
    groupId: opts.groupId,
    topics: opts.topics,
    transactional: opts.transactional,
    hooks: opts.hooks,
    log: opts.logger ?? createLogger(`processor.${opts.name}`),
    metrics: opts.metrics instanceof Registry ? runtimeMetrics(opts.metrics) : opts.metrics ?? runtimeMetrics(new Registry()),
    label: { processor: opts.name },
    policy: parseRetryPolicy(opts.retry ?? {}),
    classify: opts.classifyError ?? classifyError,
    decode: opts.decode ?? ((m: KafkaMessage) => m.value as T),
    dlqTopic: opts.dlqTopic ?? DLQ_TOPIC,
    changelogTopic: opts.state ? opts.state.changelogTopic ?? changelogTopicFor(opts.groupId) : undefined,
    codec: (opts.state?.codec ?? jsonCodec) as StateCodec<S>,
    maxPerCommit: opts.maxRecordsPerCommit ?? 500,
    heartbeatInterval: opts.heartbeatInterval ?? 3_000,
    txPrefix: opts.transactionalIdPrefix ?? opts.groupId,
  };
}
