import type { DlqRecord } from './dlq-reader.ts';

/** Which dead letters an operator means: those of an entity, of a key, or both. */
export interface DlqFilter {
  entity?: string;
  /** The record key as written (`shop-1|SKU-1`) or without its shop id (`SKU-1`). */
  key?: string;
}

/** Decodes a record value to read its `entity` field (the schema registry's Avro framing). */
export type ValueDecoder = (value: Buffer) => Promise<unknown>;

const ENTITY_TOPIC = /(?:^|\.)sync\.(?:in\.)?([a-z_]+)$/;

/**
 * The entity a dead letter belongs to: told by its source topic (sync.in.<entity>, sync.<entity>), or
 * else by the `entity` field of its value (JSON, or Avro through `decode`: the command topics).
 */
export async function entityOf(r: Pick<DlqRecord, 'source' | 'value'>, decode?: ValueDecoder): Promise<string | null> {
  const byTopic = ENTITY_TOPIC.exec(r.source.topic)?.[1];
  if (byTopic && !['out', 'audit', 'dlq'].includes(byTopic)) return byTopic;
  if (!r.value || r.value.length === 0) return null;
  try {
    const value = r.value[0] === 0 && decode ? await decode(r.value) : JSON.parse(r.value.toString('utf8'));
    const entity = (value as { entity?: unknown } | null)?.entity;
    return typeof entity === 'string' ? entity : null;
  } catch {
    return null;
  }
}

/** A predicate for the dead letters `filter` names (all of them without entity and key). */
export function dlqMatcher(filter: DlqFilter, decode?: ValueDecoder): (r: DlqRecord) => Promise<boolean> {
  return async (r) => {
    if (filter.key !== undefined) {
      const key = r.key?.toString('utf8') ?? '';
      if (key !== filter.key && !key.endsWith(`|${filter.key}`)) return false;
    }
    if (filter.entity !== undefined && (await entityOf(r, decode)) !== filter.entity) return false;
    return true;
  };
}
