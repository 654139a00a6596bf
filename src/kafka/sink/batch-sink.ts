import type { Consumer, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { buildDlqMessage } from '../dlq.ts';
import { classifyError } from '../errors.ts';
import { parseRetryPolicy, withRetry, type RetryPolicyInput } from '../retry.ts';
import type { Logger } from '../../observability/logger.ts';
import type { RuntimeMetrics } from '../../observability/metrics.ts';

/**
 * What happened to one item of a batch: done, refused for good (it goes to the DLQ), or not
 * settled yet (a child waiting for its parent): its offset is not committed until `settled`
 * resolves, so a crash meanwhile re-delivers it instead of losing it.
 */
export type ItemResult = { ok: true } | { ok: false; reason: string } | { ok: 'pending'; settled: Promise<{ ok: true } | { ok: false; reason: string }> };

export interface BatchSinkOptions<T> {
  name: string;
  kafka: Kafka;
  groupId: string;
  topic: string;
  dlqTopic: string;
  decode(message: KafkaMessage): Promise<T>;
  /** Applies the items (one result per item, in order); throws for a transient failure (retried). */
  write(items: T[]): Promise<ItemResult[]>;
  metrics: RuntimeMetrics;
  log: Logger;
  retry?: RetryPolicyInput;
  /** Items per write call (default 500). */
  chunkSize?: number;
}

/**
 * A sink that writes outside Kafka (Salesforce, the shop database): reads its command topic in
 * batches, hands each chunk to `write`, sends refused items to the DLQ with the reason, and commits
 * the offsets only after the effects — at-least-once, made exactly-once by idempotent writes
 * (upserts by external id / guarded upserts). A transient failure is retried with backoff and
 * never skips a record.
 */
export function createBatchSink<T>(opts: BatchSinkOptions<T>) {
  const policy = parseRetryPolicy(opts.retry ?? {});
  const label = { processor: opts.name };
  const abort = new AbortController();
  let consumer: Consumer | undefined;
  let producer: Producer | undefined;
  let joined = false;
  /** Offsets per partition whose item has not settled: commits stop below the lowest. */
  const unsettled = new Map<number, Set<bigint>>();
  const commitPoint = (partition: number, next: bigint): bigint => {
    const pending = unsettled.get(partition);
    if (!pending || pending.size === 0) return next;
    let low = next;
    for (const o of pending) if (o < low) low = o;
    return low;
  };

  async function toDlq(message: KafkaMessage, partition: number, error: unknown, failure: 'decode' | 'non-retryable'): Promise<void> {
    await producer!.send({
      topic: opts.dlqTopic,
      acks: -1,
      messages: [buildDlqMessage({ processor: opts.name, groupId: opts.groupId, failure, error, errorClass: classifyError(error), attempts: 1, topic: opts.topic, partition, message })],
    });
    opts.metrics.dlq.inc({ ...label, reason: failure });
  }

  return {
    name: opts.name,
    ready: () => joined,
    async start(): Promise<void> {
      producer = opts.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      consumer = opts.kafka.consumer({ groupId: opts.groupId, allowAutoTopicCreation: false });
      consumer.on(consumer.events.GROUP_JOIN, () => { joined = true; });
      await consumer.connect();
      await consumer.subscribe({ topic: opts.topic, fromBeginning: true });
      await consumer.run({
        eachBatchAutoResolve: false,
        autoCommit: false,
        eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }) => {
          const size = opts.chunkSize ?? 500;
          for (let i = 0; i < batch.messages.length && isRunning() && !isStale(); i += size) {
            const chunk = batch.messages.slice(i, i + size);
            const decoded: Array<{ message: KafkaMessage; item: T }> = [];
            for (const message of chunk) {
              opts.metrics.consumed.inc({ ...label, topic: opts.topic });
              try {
                decoded.push({ message, item: await opts.decode(message) });
              } catch (err) {
                await toDlq(message, batch.partition, err, 'decode');
              }
            }
            const results = decoded.length === 0 ? [] : await withRetry(() => opts.write(decoded.map((d) => d.item)), policy, {
              signal: abort.signal,
              onRetry: ({ error, errorClass, delayMs }) => {
                opts.metrics.retries.inc({ ...label, error_class: errorClass });
                opts.log.warn({ err: String(error), errorClass, delayMs, partition: batch.partition }, 'sink write failed; retrying');
              },
            });
            for (let j = 0; j < decoded.length; j++) {
              const r = results[j];
              const message = decoded[j]!.message;
              if (r?.ok === false) await toDlq(message, batch.partition, new Error(r.reason), 'non-retryable');
              else if (r?.ok === 'pending') {
                const partition = batch.partition;
                const offset = BigInt(message.offset);
                if (!unsettled.has(partition)) unsettled.set(partition, new Set());
                unsettled.get(partition)!.add(offset);
                void r.settled.then(async (final) => {
                  if (!final.ok) await toDlq(message, partition, new Error(final.reason), 'non-retryable');
                  unsettled.get(partition)?.delete(offset);
                }).catch((err) => opts.log.error({ err: String(err), partition, offset: message.offset }, 'could not settle a pending item; it stays uncommitted'));
              }
            }
            const last = chunk[chunk.length - 1]!;
            resolveOffset(last.offset);
            const commit = commitPoint(batch.partition, BigInt(last.offset) + 1n);
            await commitOffsetsIfNecessary({ topics: [{ topic: opts.topic, partitions: [{ partition: batch.partition, offset: String(commit) }] }] });
            opts.metrics.transactions.inc({ ...label, result: 'committed' });
            await heartbeat();
          }
        },
      });
    },
    async stop(): Promise<void> {
      abort.abort(new Error(`${opts.name} stopping`));
      await consumer?.disconnect();
      await producer?.disconnect();
    },
  };
}
