/**
 * What a backfill produces: its records as routed changes on sync.in.<entity> (partitioned by entity
 * key as the router partitions them, so each joins its key's live changes on one partition), and its
 * failures on sync.dlq.
 */
import { CompressionTypes, Partitioners, type Kafka, type KafkaMessage, type Producer } from 'kafkajs';
import type { RoutedChange } from '../flows/routed-change.ts';
import type { TopicNames } from '../flows/topic-names.ts';
import { buildDlqMessage } from '../kafka/dlq.ts';

/** Messages per produce request: a chunk of 100,000 records goes out in slices. */
const SLICE = 5_000;

/** A record the backfill could not sync: what it would have been on its topic, and why. */
export interface DeadLetter {
  key: string;
  /** The bytes on `sourceTopic` (a SalesforceWrite in Avro for a refused upsert; the row as JSON for a bad row). */
  value: Buffer;
  /** Where `shopforce dlq replay` sends it (sync.out.salesforce: the Salesforce sink writes it then). */
  sourceTopic: string;
  reason: string;
  /** 'salesforce-refused', 'mapping', ... */
  errorClass: string;
}

export class HandOver {
  private constructor(private readonly producer: Producer, private readonly names: TopicNames, private readonly processor: string) {}

  /** An idempotent producer (acks all); `processor` names the backfill in its dead letters. */
  static async connect(kafka: Kafka, names: TopicNames, processor: string): Promise<HandOver> {
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    return new HandOver(producer, names, processor);
  }

  /** The producer, for checkpoints written after the records they cover. */
  get kafkaProducer(): Producer {
    return this.producer;
  }

  async send(changes: RoutedChange[]): Promise<void> {
    for (let i = 0; i < changes.length; i += SLICE) {
      const slice = changes.slice(i, i + SLICE);
      const byTopic = new Map<string, Array<{ key: string; value: string }>>();
      for (const c of slice) {
        const topic = this.names.routed(c.entity);
        let messages = byTopic.get(topic);
        if (!messages) byTopic.set(topic, (messages = []));
        messages.push({ key: c.key, value: JSON.stringify(c) });
      }
      await this.producer.sendBatch({ acks: -1, compression: CompressionTypes.GZIP, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
    }
  }

  async deadLetters(letters: DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    const now = new Date();
    const messages = letters.map((l) => buildDlqMessage({
      processor: this.processor, groupId: this.processor, failure: 'non-retryable', error: new Error(l.reason), errorClass: l.errorClass,
      attempts: 1, topic: l.sourceTopic, partition: -1, now,
      message: { key: Buffer.from(l.key), value: l.value, headers: {}, offset: '-1', timestamp: String(now.getTime()), attributes: 0 } as KafkaMessage,
    }));
    for (let i = 0; i < messages.length; i += SLICE) {
      await this.producer.send({ topic: this.names.dlq, acks: -1, compression: CompressionTypes.GZIP, messages: messages.slice(i, i + SLICE) });
    }
  }

  async close(): Promise<void> {
    await this.producer.disconnect();
  }
}
