/**
 * Where a backfill is: one record per entity and direction in a compacted topic
 * (<namespace>.sync.backfill.checkpoints). Kafka rather than a file: the backfill hands its records over
 * through Kafka anyway, a checkpoint there is durable and seen by any machine that runs the backfill
 * again (or by `run`, whose initial load looks for it), and it is written only after Kafka acknowledged
 * what it covers, so a resumed run starts right after the last record handed over.
 */
import type { Kafka, Producer } from 'kafkajs';
import { readCompactedTopic } from '../kafka/compacted-topic.ts';

export type Direction = 'salesforce' | 'shop';

/** Shop -> Salesforce: the main table's rows are read in id order; done up to this id. */
export interface ShopCursor { afterId: string }

/** Salesforce -> shop: per Salesforce object, its query job (when it started, how many records it found) and the locator of the next results page ('' = the first). */
export interface QueryCursor { jobId: string; startedAt: number; records: number; locator: string; done: boolean }

export interface Checkpoint {
  entity: string;
  to: Direction;
  /** Names the run in the records' source positions: a resumed run hands over the same positions. */
  run: string;
  /** `--since` (epoch ms), or null for everything. */
  since: number | null;
  startedAt: number;
  updatedAt: number;
  state: 'running' | 'done';
  /** Records handed over so far, and the total when known. */
  done: number;
  total: number | null;
  shop?: ShopCursor;
  salesforce?: Record<string, QueryCursor>;
}

export const checkpointKey = (entity: string, to: Direction) => `${entity}|${to}`;

export class BackfillCheckpoints {
  private readonly latest = new Map<string, Checkpoint>();

  constructor(private readonly kafka: Kafka, private readonly topic: string) {}

  /** Reads the topic to its end; the last value per key wins. */
  async load(): Promise<this> {
    await readCompactedTopic(this.kafka, this.topic, (key, value) => {
      if (value === null) this.latest.delete(key);
      else this.latest.set(key, JSON.parse(value.toString('utf8')) as Checkpoint);
    });
    return this;
  }

  get(entity: string, to: Direction): Checkpoint | undefined {
    return this.latest.get(checkpointKey(entity, to));
  }

  /** Writes a checkpoint and waits for Kafka's acknowledgement (acks all). */
  async write(producer: Producer, cp: Checkpoint): Promise<void> {
    const value: Checkpoint = { ...cp, updatedAt: Date.now() };
    await producer.send({ topic: this.topic, acks: -1, messages: [{ key: checkpointKey(cp.entity, cp.to), value: JSON.stringify(value) }] });
    this.latest.set(checkpointKey(cp.entity, cp.to), value);
  }
}
