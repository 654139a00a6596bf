/**
 * Baseline (a) of bench/side-by-side.ts: a naive sink, as a simple connector does it. It reads the same
 * Debezium topics of the shop as shopforce's router (shop.public.customers and shop.public.orders, its own
 * consumer group, started at their current end) and writes each change event with its own REST call per
 * record: one sObject upsert by external id (PATCH /sobjects/<type>/<field>/<id>) for each Account, Contact
 * and Opportunity, one event at a time per partition (the partitions side by side), no batching, no
 * coalescing. A failed upsert (e.g. the order's Account not there yet: customers and orders are two topics)
 * is tried again every 0.5 s for up to 10 s, like a connector's retry; every try is an API call.
 * Not product code: it is what the API call counts are compared with.
 */
import type { Connection } from 'jsforce';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { readDebeziumEvent } from '../../src/entities/debezium.ts';
import { fetchTopicOffsetsSettled } from '../../src/kafka/topics.ts';
import { BASELINE_TABLES, baselineWrites, type BaselineMappingOptions, type BaselineTable } from './baseline-records.ts';

const ATTEMPTS = 20;
const RETRY_PAUSE_MS = 500;
/** one partition at a time each, all the partitions of both topics side by side (like one task per partition) */
const PARTITIONS_AT_ONCE = 12;

export interface NaiveSinkOptions extends BaselineMappingOptions {
  brokers: string[];
  /** Debezium topic prefix and schema: the topics are <prefix>.<schema>.<table> */
  topicPrefix: string;
  schema: string;
  shopId: string;
  groupId: string;
  conn: Connection;
}

export interface NaiveSink {
  /** REST calls made and the upserts that failed for good */
  stats(): { events: number; calls: number; failed: number };
  stop(): Promise<void>;
}

/** Starts the consumer at the current end of the topics; resolves once it has joined its group. */
export async function startNaiveSink(opts: NaiveSinkOptions): Promise<NaiveSink> {
  const kafka = new Kafka({ brokers: opts.brokers, clientId: 'bench-naive-sink', logLevel: logLevel.NOTHING });
  const topics = new Map(BASELINE_TABLES.map((t) => [`${opts.topicPrefix}.${opts.schema}.${t}`, t] as [string, BaselineTable]));
  await startAtEnd(kafka, opts.groupId, [...topics.keys()]);
  const stats = { events: 0, calls: 0, failed: 0 };
  const consumer: Consumer = kafka.consumer({ groupId: opts.groupId });
  await consumer.connect();
  await consumer.subscribe({ topics: [...topics.keys()] });
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));

  const upsert = async (sobject: string, field: string, record: Record<string, unknown>) => {
    for (let attempt = 1; ; attempt++) {
      stats.calls++;
      const result = await opts.conn.sobject(sobject).upsert(record, field).catch((err: Error) => ({ success: false, errors: [err.message] }));
      if (result.success) return;
      if (attempt >= ATTEMPTS) { stats.failed++; return; }
      await new Promise((r) => setTimeout(r, RETRY_PAUSE_MS));
    }
  };

  await consumer.run({
    partitionsConsumedConcurrently: PARTITIONS_AT_ONCE,
    eachMessage: async ({ topic, message }) => {
      const change = readDebeziumEvent(message.value ? JSON.parse(message.value.toString('utf8')) : null);
      if (!change || change.op !== 'UPSERT' || change.row.shop_id !== opts.shopId) return;
      stats.events++;
      for (const w of baselineWrites(topics.get(topic)!, change.row, opts.shopId, opts)) await upsert(w.sobject, w.externalIdField, w.record);
    },
  });
  await joined;
  return { stats: () => ({ ...stats }), stop: () => consumer.disconnect() };
}

/** A fresh group starts where the topics end now: it syncs the changes made from here on only. */
async function startAtEnd(kafka: Kafka, groupId: string, topics: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (const topic of topics) {
      const offsets = await fetchTopicOffsetsSettled(admin, topic);
      await admin.setOffsets({ groupId, topic, partitions: offsets.map((o) => ({ partition: o.partition, offset: o.high })) });
    }
  } finally {
    await admin.disconnect();
  }
}
