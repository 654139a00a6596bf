import type { Kafka } from 'kafkajs';
import { readCompactedTopic } from '../../kafka/compacted-topic.ts';

export type Image = Record<string, unknown>;

/**
 * The last full image of each record of one object, mirrored in a compacted topic keyed by
 * record id (a tombstone after a delete) and restored from it on start.
 */
export class ImageCache {
  private readonly images = new Map<string, Image>();

  constructor(readonly object: string, readonly topic: string) {}

  async restore(kafka: Kafka): Promise<number> {
    await readCompactedTopic(kafka, this.topic, (key, value) => {
      if (value === null) this.images.delete(key);
      else this.images.set(key, JSON.parse(value.toString('utf8')) as Image);
    });
    return this.images.size;
  }

  get(id: string): Image | undefined {
    return this.images.get(id);
  }

  set(id: string, image: Image | null): void {
    if (image === null) this.images.delete(id);
    else this.images.set(id, image);
  }

  get size(): number {
    return this.images.size;
  }
}

/** An UPDATE's changed fields merged into the previous image (nulled fields are null in `changed`). */
export function mergeImage(previous: Image, changed: Record<string, unknown>): Image {
  return { ...previous, ...changed };
}
