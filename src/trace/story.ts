/**
 * `shopforce trace`: one record's story from the topics, in time order — its source events from both
 * sides, each reconciler decision, each command and each write result (and drift checks).
 *
 * What is read: the topics keyed by entity key (sync.in.<entity>, sync.audit, sync.out.*) only in the
 * partition the key hashes to. The raw topics are keyed by row or record id, not by entity key: the
 * routed changes on sync.in.<entity> name those ids and their commit times, so each raw topic is read
 * only in the partition its id hashes to (Debezium's key is the row's primary key as JSON, the
 * Salesforce source's the record id), and only from a little before the first of those commit times.
 */
import type { Kafka, KafkaMessage } from 'kafkajs';
import pg from 'pg';
import type { SchemaCatalogClient } from '../avro/registry.ts';
import type { ShopforceConfig } from '../config/schema.ts';
import { readDebeziumEvent } from '../entities/debezium.ts';
import type { SalesforceWrite, ShopWrite } from '../entities/types.ts';
import { salesforcePosition, type RoutedChange } from '../flows/routed-change.ts';
import { topicNames } from '../flows/topic-names.ts';
import type { AuditEvent } from '../reconcile/audit.ts';
import type { Side } from '../reconcile/types.ts';
import type { SfCdcMessage } from '../salesforce/source/types.ts';
import { partitionOf } from './key-partition.ts';
import { partitionEnds, readRanges, type PartitionRange } from './partition-reader.ts';

/** A raw topic is read from this long before the first commit time of the record's changes (clocks and lag). */
const RAW_MARGIN_MS = 5 * 60_000;

export type TraceStage = 'SOURCE' | 'DECISION' | 'COMMAND' | 'WRITE_RESULT' | 'DRIFT' | 'OTHER';
const STAGE_ORDER: Record<TraceStage, number> = { SOURCE: 0, DECISION: 1, COMMAND: 2, WRITE_RESULT: 3, DRIFT: 4, OTHER: 5 };

export interface TraceRow {
  /** When the record was written to Kafka (the raw topic's time for a source event). */
  time: number;
  stage: TraceStage;
  side: Side | null;
  summary: string;
  /** Where it is: topic[partition]@offset; a source event on its raw topic first, then on sync.in. */
  at: string[];
  record: unknown;
}

export interface TraceRead { topic: string; partition: number; from: string; to: string; matched: number }

export interface Trace {
  entity: string;
  key: string;
  rows: TraceRow[];
  /** The partitions read, and how many records of the key each held. */
  read: TraceRead[];
}

interface Found { topic: string; partition: number; message: KafkaMessage }

const where = (f: Found) => `${f.topic}[${f.partition}]@${f.message.offset}`;
const iso = (ms: number) => new Date(ms).toISOString();
const short = (id: string) => id.slice(0, 8);

async function partitionCounts(kafka: Kafka, topics: string[]): Promise<Map<string, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const { topics: meta } = await admin.fetchTopicMetadata({ topics: topics.filter((t) => existing.has(t)) });
    return new Map(meta.map((t) => [t.name, t.partitions.length]));
  } finally {
    await admin.disconnect();
  }
}

/** The primary key columns of a shop table, in key order (Debezium's message key holds them). */
async function primaryKeys(config: ShopforceConfig, tables: string[]): Promise<Map<string, string[]>> {
  const client = new pg.Client({ connectionString: config.shop.databaseUrl });
  await client.connect();
  try {
    const out = new Map<string, string[]>();
    for (const table of tables) {
      const { rows } = await client.query<{ attname: string }>(
        `SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
         WHERE i.indrelid = $1::regclass AND i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)`,
        [`${client.escapeIdentifier(config.shop.schema)}.${client.escapeIdentifier(table)}`]);
      out.set(table, rows.map((r) => r.attname));
    }
    return out;
  } finally {
    await client.end();
  }
}

/** Reads the whole partition each topic's `key` hashes to, keeping the records of that key. */
async function readKeyed(kafka: Kafka, ranges: Array<{ topic: string; partition: number; key: Buffer; from?: bigint }>, read: TraceRead[]): Promise<Found[]> {
  const found: Found[] = [];
  // one range per partition: from the earliest start any key of it needs
  const byPartition = new Map<string, PartitionRange>();
  const ends = new Map<string, Map<number, bigint>>();
  for (const r of ranges) {
    if (!ends.has(r.topic)) ends.set(r.topic, await partitionEnds(kafka, r.topic));
    const id = `${r.topic}\u0000${r.partition}`;
    const from = r.from ?? 0n;
    const before = byPartition.get(id);
    if (!before || from < before.from) byPartition.set(id, { topic: r.topic, partition: r.partition, from, to: ends.get(r.topic)!.get(r.partition) ?? 0n });
  }
  const partitions = [...byPartition.values()];
  const wanted = new Map(ranges.map((r) => [`${r.topic}\u0000${r.partition}\u0000${r.key.toString('hex')}`, r]));
  const matched = new Map<string, number>();
  await readRanges(kafka, partitions, (topic, partition, message) => {
    if (!message.key || !wanted.has(`${topic}\u0000${partition}\u0000${message.key.toString('hex')}`)) return;
    found.push({ topic, partition, message });
    matched.set(`${topic}\u0000${partition}`, (matched.get(`${topic}\u0000${partition}`) ?? 0) + 1);
  });
  for (const p of partitions) read.push({ topic: p.topic, partition: p.partition, from: String(p.from), to: String(p.to), matched: matched.get(`${p.topic}\u0000${p.partition}`) ?? 0 });
  return found;
}

function commandSummary(c: SalesforceWrite | ShopWrite): string {
  if ('sobject' in c) return `${c.operation} ${c.sobject} ${c.externalIdField}=${c.externalId}${c.reassert ? ' (re-asserted)' : ''}${c.operation === 'UPSERT' ? `: ${Object.keys(c.fields).join(', ')}` : ''}; command ${short(c.commandId)}`;
  return `${c.operation} ${c.table} ${c.keyColumns.map((k) => String(c.row[k])).join('|')}${c.operation === 'UPSERT' ? `: ${Object.keys(c.row).filter((k) => !c.keyColumns.includes(k)).join(', ')}` : ''}; command ${short(c.commandId)}`;
}

function auditRow(f: Found, e: AuditEvent): TraceRow {
  const stage: TraceStage = e.stage === 'DECISION' || e.stage === 'WRITE_RESULT' || e.stage === 'DRIFT' ? e.stage : 'OTHER';
  const summary = e.stage === 'DECISION' ? `${e.decision}${e.alert ? ' (alert)' : ''} on a ${e.origin === 'SHOP' ? 'shop' : 'Salesforce'} change: ${e.message}`
    : e.stage === 'WRITE_RESULT' ? `${e.message}; command ${short(e.commandIds[0] ?? '')}` : e.message;
  return { time: Number(f.message.timestamp), stage, side: e.origin, summary, at: [where(f)], record: e };
}

/**
 * Rows in time order, but none before what caused it: the records of one reconciler transaction carry
 * their producer's clock and may differ by a millisecond, so a command is placed no earlier than the
 * decision of its change (same source position), and a write result no earlier than its command.
 */
function inCausalTimeOrder(rows: TraceRow[]): TraceRow[] {
  const position = (r: TraceRow) => (r.record as { sourcePosition?: string }).sourcePosition ?? '';
  const after = (map: Map<string, number>, id: string, t: number) => map.set(id, Math.max(map.get(id) ?? 0, t));
  const caused = new Map<string, number>();
  for (const r of rows) if (r.stage === 'SOURCE' || r.stage === 'DECISION') after(caused, position(r), r.time);
  const commands = new Map<string, number>();
  const at = new Map<TraceRow, number>();
  for (const r of rows) {
    if (r.stage !== 'COMMAND') continue;
    const t = Math.max(r.time, caused.get(position(r)) ?? 0);
    at.set(r, t);
    after(commands, (r.record as { commandId: string }).commandId, t);
  }
  for (const r of rows) {
    if (r.stage === 'WRITE_RESULT') at.set(r, Math.max(r.time, ...(r.record as AuditEvent).commandIds.map((id) => commands.get(id) ?? 0)));
  }
  const time = (r: TraceRow) => at.get(r) ?? r.time;
  return [...rows].sort((a, b) => time(a) - time(b) || STAGE_ORDER[a.stage] - STAGE_ORDER[b.stage]);
}

export async function traceKey(config: ShopforceConfig, entity: string, key: string, deps: { kafka: Kafka; registry: SchemaCatalogClient }): Promise<Trace> {
  const { kafka, registry } = deps;
  const names = topicNames(config.kafka.topicNamespace);
  const keyed = [names.routed(entity), names.audit, names.salesforceCommands, names.shopCommands];
  const counts = await partitionCounts(kafka, keyed);
  const read: TraceRead[] = [];
  const keyBytes = Buffer.from(key, 'utf8');
  const found = await readKeyed(kafka, keyed.filter((t) => counts.has(t)).map((topic) => ({ topic, partition: partitionOf(keyBytes, counts.get(topic)!), key: keyBytes })), read);

  const rows: TraceRow[] = [];
  const routed: Array<{ f: Found; change: RoutedChange }> = [];
  for (const f of found) {
    if (f.topic === names.routed(entity)) routed.push({ f, change: JSON.parse(f.message.value!.toString('utf8')) as RoutedChange });
    else if (f.topic === names.audit) rows.push(auditRow(f, await registry.decode<AuditEvent>(f.message.value!)));
    else {
      const command = await registry.decode<SalesforceWrite | ShopWrite>(f.message.value!);
      rows.push({ time: Number(f.message.timestamp), stage: 'COMMAND', side: 'sobject' in command ? 'SALESFORCE' : 'SHOP', summary: commandSummary(command), at: [where(f)], record: command });
    }
  }

  // the raw events behind the routed changes, each in the one partition its row or record id hashes to
  const raw = new Map<string, { topic: string; key: Buffer; since: number }>();
  const shopTables = [...new Set(routed.filter((r) => r.change.origin === 'SHOP').map((r) => r.change.part))];
  const pks = shopTables.length ? await primaryKeys(config, shopTables) : new Map<string, string[]>();
  for (const { change } of routed) {
    if (change.sourcePosition.startsWith('drift:')) continue; // a drift repair's reading, not a raw event
    let topic: string;
    let rawKey: Buffer;
    if (change.origin === 'SHOP') {
      topic = `${config.kafka.shopTopicPrefix}.${config.shop.schema}.${change.part}`;
      const image = change.image ?? {};
      rawKey = Buffer.from(JSON.stringify(Object.fromEntries((pks.get(change.part) ?? ['id']).map((c) => [c, image[c]]))));
    } else {
      topic = `${names.sfCdcPrefix}.${change.part}`;
      rawKey = Buffer.from(change.recordId, 'utf8');
    }
    const id = `${topic}\u0000${rawKey.toString('hex')}`;
    raw.set(id, { topic, key: rawKey, since: Math.min(raw.get(id)?.since ?? Infinity, change.eventTime - RAW_MARGIN_MS) });
  }
  const rawCounts = await partitionCounts(kafka, [...new Set([...raw.values()].map((r) => r.topic))]);
  const rawRanges = [];
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (const r of raw.values()) {
      const n = rawCounts.get(r.topic);
      if (!n) continue;
      const partition = partitionOf(r.key, n);
      const start = (await admin.fetchTopicOffsetsByTimestamp(r.topic, r.since)).find((o) => o.partition === partition);
      rawRanges.push({ topic: r.topic, partition, key: r.key, from: BigInt(start?.offset ?? '0') });
    }
  } finally {
    await admin.disconnect();
  }
  const rawFound = rawRanges.length ? await readKeyed(kafka, rawRanges, read) : [];
  const rawByPosition = new Map<string, Found>();
  for (const f of rawFound) {
    if (!f.message.value) continue; // a tombstone after a delete
    const value = JSON.parse(f.message.value.toString('utf8'));
    const position = f.topic.startsWith(`${names.sfCdcPrefix}.`) ? salesforcePosition((value as SfCdcMessage).object, (value as SfCdcMessage).position) : readDebeziumEvent(value)?.sourcePosition;
    if (position) rawByPosition.set(position, f);
  }
  for (const { f, change } of routed) {
    const rawEvent = rawByPosition.get(change.sourcePosition);
    rows.push({
      time: Number((rawEvent ?? f).message.timestamp), stage: 'SOURCE', side: change.origin,
      summary: `${change.repair ? 'drift repair reading of ' : ''}${change.origin === 'SHOP' ? 'shop' : 'Salesforce'} ${change.part} ${change.recordId} ${change.op}${change.ours ? ' (our own write coming back)' : ''}; committed ${iso(change.eventTime)}; position ${change.sourcePosition}`,
      at: [...(rawEvent ? [where(rawEvent)] : []), where(f)], record: change,
    });
  }
  return { entity, key, rows: inCausalTimeOrder(rows), read };
}
