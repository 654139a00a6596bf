import type { Kafka, Producer } from 'kafkajs';
import { readCompactedTopic } from '../../kafka/compacted-topic.ts';
import type { Checkpoint } from './types.ts';

/** Replay id checkpoints per channel in a compacted topic (key = channel). */
export class CheckpointStore {
  private readonly latest = new Map<string, Checkpoint>();

  constructor(private readonly kafka: Kafka, private readonly topic: string) {}

  /**
   * Reads the topic to its end; the last value per channel wins. With `only`, just those channels
   * (ones this copy takes over: another copy wrote their checkpoints, while the ones it reads keep theirs).
   */
  async load(only?: ReadonlySet<string>): Promise<void> {
    await readCompactedTopic(this.kafka, this.topic, (key, value) => {
      if (only && !only.has(key)) return;
      if (value === null) this.latest.delete(key);
      else this.latest.set(key, JSON.parse(value.toString('utf8')) as Checkpoint);
    });
  }

  get(channel: string): Checkpoint | undefined {
    return this.latest.get(channel);
  }

  /** Writes a checkpoint and waits for Kafka's acknowledgement (acks all). */
  async write(producer: Producer, cp: Checkpoint): Promise<void> {
    await producer.send({ topic: this.topic, acks: -1, messages: [{ key: cp.channel, value: JSON.stringify(cp) }] });
    this.latest.set(cp.channel, cp);
  }
}
