import { randomUUID } from 'node:crypto';
import type { TestSandbox } from '../sandbox/sandbox-helpers.ts';
import { collectThroughSentinel } from './kafka.ts';

/** A field per object that no flow maps: a person's edit of it makes a change event and nothing else. */
const UNMAPPED_FIELD: Record<string, { field: string; value: () => unknown }> = {
  Account: { field: 'Description', value: () => `sentinel ${randomUUID()}` },
  Contact: { field: 'MobilePhone', value: () => `+1 ${randomUUID().slice(0, 8)}` },
  Opportunity: { field: 'Description', value: () => `sentinel ${randomUUID()}` },
  OpportunityLineItem: { field: 'Discount', value: () => Math.round(Math.random() * 10_000) / 1000 },
};

/**
 * The writes of the pipeline the org received for each record of `object` whose `extIdField` passes
 * `ours`, by external id, in order: the record as each write left it. Every write is one change event,
 * which the pipeline's own source puts on <namespace>.sf.cdc.<object> with the full record. A person
 * then edits one of these records (`sentinelId`, a field no flow maps): its event is read, and the
 * topic on to its end, so every write before it is seen. People's edits (change origin '') are left out.
 */
export async function writesPerRecord(
  brokers: string[], namespace: string, t: TestSandbox, object: string, extIdField: string, ours: (externalId: string) => boolean, sentinelId: string,
): Promise<Map<string, Array<Record<string, unknown>>>> {
  const mark = UNMAPPED_FIELD[object];
  if (!mark) throw new Error(`writesPerRecord: no unmapped field of ${object} to make a sentinel with`);
  const value = mark.value();
  t.sb.admin.userEdit({ object, id: sentinelId, fields: { [mark.field]: value } });
  const { messages } = await collectThroughSentinel(brokers, [`${namespace}.sf.cdc.${object}`], {
    sentinel: (m) => m.key === sentinelId && m.value?.record?.[mark.field] === value,
    match: (m) => m.headers['sf-change-origin'] !== '' && ours(String(m.value?.record?.[extIdField] ?? '')),
    timeoutMs: 120_000,
  });
  // a source replay after a crash repeats an event: one write per replay id
  const seen = new Set<string>();
  const writes = new Map<string, Array<Record<string, unknown>>>();
  for (const m of messages) {
    if (seen.has(m.value.replayId)) continue;
    seen.add(m.value.replayId);
    const id = String(m.value.record[extIdField]);
    writes.set(id, [...(writes.get(id) ?? []), m.value.record]);
  }
  return writes;
}

type Counters = ReturnType<TestSandbox['sb']['admin']['counters']>;

/** What the org was sent for one object, through every API: write calls, and records asked to be written (refused ones too). */
export interface ObjectWrites { calls: number; received: number }

/**
 * The write calls and records of each object the org received between two counter snapshots
 * (`t.sb.admin.counters()`): what the pipeline sent, a write that changed nothing included (it makes no
 * change event, so writesPerRecord cannot see it).
 */
export function writesReceived(before: Counters, after: Counters, objects: string[]): Record<string, ObjectWrites> {
  const sum = (c: Counters, object: string): ObjectWrites => Object.values(c.writesByApi).reduce(
    (n, byObject) => ({ calls: n.calls + (byObject[object]?.calls ?? 0), received: n.received + (byObject[object]?.received ?? 0) }), { calls: 0, received: 0 });
  return Object.fromEntries(objects.map((o) => {
    const [a, b] = [sum(before, o), sum(after, o)];
    return [o, { calls: b.calls - a.calls, received: b.received - a.received }];
  }));
}
