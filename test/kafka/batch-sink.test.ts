import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { AssignerProtocol, type Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import { parseDlqMessage } from '../../src/kafka/dlq.ts';
import { RecordTransientError, TransientError } from '../../src/kafka/errors.ts';
import type { RetryPolicyInput } from '../../src/kafka/retry.ts';
import { createBatchSink, type BatchSink, type ItemResult, type Settled } from '../../src/kafka/sink/batch-sink.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { runtimeMetrics } from '../../src/observability/metrics.ts';
import { getTestStack } from '../support/stack.ts';
import { committedOffset, createTestTopics, deleteTestTopics, eventually, groupCaughtUp, startCollector, testKafka, watchCommitted } from '../support/runtime-kafka.ts';

let kafka: Kafka;
const cleanup: string[] = [];

before(async () => {
  kafka = testKafka((await getTestStack()).kafka.brokers);
});

after(async () => {
  await deleteTestTopics(kafka, cleanup);
});

async function setup(prefix: string, count: number): Promise<{ topic: string; dlq: string; groupId: string }> {
  const [topic, dlq] = await createTestTopics(kafka, [{ prefix: `${prefix}-in`, partitions: 1 }, { prefix: `${prefix}-dlq`, partitions: 1 }]);
  cleanup.push(topic, dlq);
  if (count > 0) await produce(topic, count);
  return { topic, dlq, groupId: `${prefix}-group-${randomUUID()}` };
}

async function produce(topic: string, count: number): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: Array.from({ length: count }, (_, i) => ({ key: `k${i}`, value: `item-${i}` })) });
  await producer.disconnect();
}

/** A sink whose write() is `write`, decoding values as strings. */
function sink(t: { topic: string; dlq: string; groupId: string }, write: (items: string[]) => Promise<ItemResult[]>, extra: { chunkSize?: number; pendingTimeoutMs?: number; sessionTimeout?: number; heartbeatInterval?: number; retry?: RetryPolicyInput } = {}): BatchSink {
  return createBatchSink<string>({
    name: 'sink-test', kafka, groupId: t.groupId, topic: t.topic, dlqTopic: t.dlq,
    metrics: runtimeMetrics(new Registry()), log: createLogger('test.batch-sink', 'error'),
    decode: async (m) => m.value!.toString(),
    write,
    ...extra,
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Every item lands: recorded in `written`. */
const landAll = (written: string[], items: string[]): ItemResult[] => {
  written.push(...items);
  return items.map(() => ({ ok: true as const }));
};
/** A collected DLQ record, read back as `dlq list` does. */
const dlqEntry = (m: { key: string | null; value: Buffer | null; headers: Record<string, string> }) =>
  parseDlqMessage({ key: m.key === null ? null : Buffer.from(m.key), value: m.value, headers: Object.fromEntries(Object.entries(m.headers).map(([k, v]) => [k, Buffer.from(v)])) });
const counts = (written: string[]) => written.reduce((m, w) => m.set(w, (m.get(w) ?? 0) + 1), new Map<string, number>());

test('a write longer than the session timeout keeps the membership: heartbeats go on during write(), nothing is written twice', async () => {
  const t = await setup('sink-hb', 30);
  const written: string[] = [];
  const admin = kafka.admin();
  await admin.connect();
  const s = sink(t, async (items) => {
    if (written.length === 0) await sleep(12_000); // the first write outlives the 6 s session (the broker's minimum)
    written.push(...items);
    return items.map(() => ({ ok: true as const }));
  }, { chunkSize: 10, sessionTimeout: 6_000, heartbeatInterval: 500 });
  try {
    await s.start();
    await eventually(async () => (await admin.describeGroups([t.groupId])).groups[0]?.members.length === 1, 'the sink joined');
    const member = (await admin.describeGroups([t.groupId])).groups[0]!.members[0]!.memberId;
    await eventually(() => groupCaughtUp(kafka, t.groupId, t.topic), 'every item committed', 60_000);
    assert.equal((await admin.describeGroups([t.groupId])).groups[0]!.members[0]?.memberId, member, 'still the same member: the session never expired');
    assert.deepEqual([...counts(written).values()].filter((n) => n !== 1), [], 'no item written twice');
    assert.equal(written.length, 30);
  } finally {
    await s.stop();
    await admin.disconnect();
  }
});

test('a write longer than the session timeout is never taken over: a second member standing by writes none of its keys', async () => {
  const t = await setup('sink-hb2', 0);
  const written = new Map<string, string[]>([['a', []], ['b', []]]);
  const admin = kafka.admin();
  await admin.connect();
  const member = (name: string) => sink(t, async (items) => {
    if (written.get(name)!.length === 0) await sleep(12_000); // the owner's first write outlives the 6 s session (the broker's minimum)
    written.get(name)!.push(...items);
    return items.map(() => ({ ok: true as const }));
  }, { chunkSize: 10, sessionTimeout: 6_000, heartbeatInterval: 500 });
  const a = member('a');
  const b = member('b');
  try {
    await a.start();
    await b.start();
    await eventually(async () => (await admin.describeGroups([t.groupId])).groups[0]?.state === 'Stable'
      && (await admin.describeGroups([t.groupId])).groups[0]?.members.length === 2, 'both members joined, the group stable');
    await produce(t.topic, 30);
    await eventually(() => groupCaughtUp(kafka, t.groupId, t.topic), 'every item committed', 60_000);
    const [owner, standby] = written.get('a')!.length > 0 ? ['a', 'b'] : ['b', 'a'];
    assert.equal(written.get(owner)!.length, 30, 'the owner wrote every item once');
    assert.deepEqual(written.get(standby), [], 'the standby wrote nothing: the owner was never evicted mid-write');
  } finally {
    await Promise.all([a.stop(), b.stop()]);
    await admin.disconnect();
  }
});

test('a pending item holds the commit point until it settles, even on an idle partition; the committed offset never moves backwards', async () => {
  const t = await setup('sink-pend', 20);
  let release!: (r: Settled) => void;
  const settled = new Promise<Settled>((r) => { release = r; });
  const written: string[] = [];
  const s = sink(t, async (items) => {
    written.push(...items);
    return items.map((item) => (item === 'item-5' && written.filter((w) => w === 'item-5').length === 1 ? { ok: 'pending' as const, settled } : { ok: true as const }));
  }, { chunkSize: 4 });
  const watch = watchCommitted(kafka, t.groupId, t.topic);
  try {
    await s.start();
    await eventually(() => written.length >= 20, 'every item written once');
    await sleep(1_500);
    assert.equal(await committedOffset(kafka, t.groupId, t.topic, 0), 5n, 'committed up to the pending item, not past it');
    release({ ok: true });
    await eventually(() => groupCaughtUp(kafka, t.groupId, t.topic), 'the settle committed the rest without a new batch', 30_000);
    assert.equal(written.length, 20, 'nothing delivered again');
  } finally {
    await s.stop();
    await watch.stop();
  }
  assert.deepEqual(watch.values, [...watch.values].sort((a, b) => (a < b ? -1 : 1)), `committed offsets only grow: ${watch.values.join(', ')}`);
  assert.equal(watch.values[watch.values.length - 1], 20n);
});

test('a pending item that settles as retry is delivered again from its offset, in order; one that never settles is after pendingTimeoutMs', async () => {
  const t = await setup('sink-retry', 12);
  const written: string[] = [];
  const s = sink(t, async (items) => {
    written.push(...items);
    return items.map((item) => {
      const tries = written.filter((w) => w === item).length;
      if (item === 'item-3' && tries === 1) return { ok: 'pending' as const, settled: sleep(300).then((): Settled => ({ ok: 'retry', reason: 'parent write failed, try again' })) };
      if (item === 'item-9' && tries === 1) return { ok: 'pending' as const, settled: new Promise<Settled>(() => undefined) }; // never settles
      return { ok: true as const };
    });
  }, { chunkSize: 2, pendingTimeoutMs: 2_000 });
  const watch = watchCommitted(kafka, t.groupId, t.topic);
  try {
    await s.start();
    await eventually(() => groupCaughtUp(kafka, t.groupId, t.topic), 'every item committed in the end', 60_000);
    const c = counts(written);
    assert.equal(c.get('item-3'), 2, 'the retried item was written again');
    assert.equal(c.get('item-9'), 2, 'the never-settled item was written again after the timeout');
    for (let i = 0; i < 3; i++) assert.equal(c.get(`item-${i}`), 1, `item-${i} (before the retried one) written once`);
    const second = written.indexOf('item-3', written.indexOf('item-3') + 1);
    assert.deepEqual(written.slice(second, second + 2), ['item-3', 'item-4'], 're-delivered from the retried item on, in order');
  } finally {
    await s.stop();
    await watch.stop();
  }
  assert.deepEqual(watch.values, [...watch.values].sort((a, b) => (a < b ? -1 : 1)), `committed offsets only grow: ${watch.values.join(', ')}`);
});

test('a pending item that settles as refused goes to the DLQ once, with its reason', async () => {
  const t = await setup('sink-fail', 6);
  const written: string[] = [];
  const s = sink(t, async (items) => {
    written.push(...items);
    return items.map((item) => (item === 'item-2' ? { ok: 'pending' as const, settled: sleep(300).then((): Settled => ({ ok: false, reason: 'parent never arrived' })) } : { ok: true as const }));
  });
  await runToEnd(t, s, 'every item committed', 30_000, async (dlq) => {
      await dlq.waitFor(1, 30_000);
      await sleep(500);
      assert.equal(dlq.messages.length, 1);
      const entry = dlqEntry(dlq.messages[0]!);
      assert.equal(entry.reason, 'parent never arrived');
      assert.equal(entry.source.offset, '2');
      assert.equal(written.length, 6, 'nothing written twice');
  });
});

/** Starts the sink, waits until its group committed every item, runs `check` with the DLQ seen, stops both. */
async function runToEnd(t: { groupId: string; topic: string; dlq: string }, s: BatchSink, what: string, timeoutMs: number, check: (dlq: Awaited<ReturnType<typeof startCollector>>) => Promise<void>): Promise<void> {
  const dlq = await startCollector(kafka, [t.dlq]);
  try {
    await s.start();
    await eventually(() => groupCaughtUp(kafka, t.groupId, t.topic), what, timeoutMs);
    await check(dlq);
  } finally {
    await s.stop();
    await dlq.stop();
  }
}

const QUICK_RETRIES: RetryPolicyInput = { classes: { transient: { retries: 2, minDelayMs: 10, maxDelayMs: 20, factor: 2, jitter: false } } };

test('a record that keeps failing with a record-level transient error is isolated by splitting the write: it alone goes to the DLQ with its reason, its neighbours land', async () => {
  const t = await setup('sink-split', 16);
  const written: string[] = [];
  const calls: number[] = [];
  const s = sink(t, async (items) => {
    calls.push(items.length);
    if (items.includes('item-6')) throw new RecordTransientError('Account item-6: UNABLE_TO_LOCK_ROW unable to obtain exclusive access to this record');
    return landAll(written, items);
  }, { chunkSize: 16, retry: QUICK_RETRIES });
  await runToEnd(t, s, 'the partition flowed on past the failing record', 60_000, async (dlq) => {
      await dlq.waitFor(1, 30_000);
      await sleep(500);
      assert.equal(dlq.messages.length, 1, 'only the failing record is dead-lettered');
      const entry = dlqEntry(dlq.messages[0]!);
      assert.equal(entry.source.offset, '6');
      assert.equal(entry.failure, 'retries-exhausted');
      assert.equal(entry.errorClass, 'transient');
      assert.match(entry.reason, /UNABLE_TO_LOCK_ROW/, 'the reason says why');
      assert.equal(entry.attempts, 3, 'its whole budget was spent alone');
      assert.deepEqual([...new Set(written)].sort(), Array.from({ length: 16 }, (_, i) => `item-${i}`).filter((i) => i !== 'item-6').sort(), 'every neighbour landed');
      assert.ok(calls.includes(1), `the write was split down to the record alone: ${calls.join(', ')}`);
  });
});

test('a failure of the whole call (plain transient) past the budget is never dead-lettered: the chunk is read again until it lands', async () => {
  const t = await setup('sink-outage', 8);
  const written: string[] = [];
  let failures = 0;
  const s = sink(t, async (items) => {
    if (failures < 20) { failures++; throw new TransientError('SERVER_UNAVAILABLE: Server temporarily unavailable'); } // outlasts the budget of 3 attempts six times
    return landAll(written, items);
  }, { chunkSize: 8, retry: QUICK_RETRIES });
  await runToEnd(t, s, 'every item committed once the outage is over', 90_000, async (dlq) => {
      assert.equal(failures, 20);
      assert.deepEqual([...new Set(written)].length, 8, 'every item landed');
      await sleep(500);
      assert.equal(dlq.messages.length, 0, 'nothing dead-lettered for an outage');
  });
});

test('a member that loses partitions in a rebalance writes none of them afterwards, parked items included; the committed offsets never move backwards', async () => {
  const PARTITIONS = [0, 1, 2, 3];
  const [topic, dlq] = await createTestTopics(kafka, [{ prefix: 'sink-revoke-in', partitions: PARTITIONS.length }, { prefix: 'sink-revoke-dlq', partitions: 1 }]);
  cleanup.push(topic, dlq);
  const t = { topic, dlq, groupId: `sink-revoke-group-${randomUUID()}` };
  const producer = kafka.producer();
  await producer.connect();
  const produceRange = async (from: number, to: number) => {
    for (const partition of PARTITIONS) await producer.send({ topic, messages: Array.from({ length: to - from }, (_, i) => ({ partition, key: `p${partition}-${from + i}`, value: `${partition}:${from + i}` })) });
  };
  // every write, in order: which member wrote which item of which partition
  const writes: Array<{ member: string; partition: number; item: string }> = [];
  const record = (member: string, item: string) => writes.push({ member, partition: Number(item.split(':')[0]), item });
  // A parks item 2 of every partition (a child waiting for its parent) and, as the Salesforce sink does, keeps retrying it until let go
  const parkedByA = new Set<string>();
  const droppedByA: string[] = [];
  let parking = true;
  const retryParked = setInterval(() => { for (const item of parkedByA) record('a', item); }, 100);
  let holdNext = false;
  let releaseA!: () => void;
  const aHeld = new Promise<void>((r) => { releaseA = r; });
  let aHolding = false;
  const member = (name: string) => sink(t, async (items) => {
    if (name === 'a' && holdNext) { holdNext = false; aHolding = true; await aHeld; } // A holds the items it has while B joins
    return items.map((item): ItemResult => {
      record(name, item);
      if (name !== 'a' || !parking || !item.endsWith(':2')) return { ok: true };
      parkedByA.add(item);
      return { ok: 'pending', settled: new Promise<Settled>(() => undefined), drop: () => { parkedByA.delete(item); droppedByA.push(item); } };
    });
  }, { chunkSize: 5, sessionTimeout: 6_000, heartbeatInterval: 500 });
  const admin = kafka.admin();
  await admin.connect();
  const describe = async () => (await admin.describeGroups([t.groupId])).groups[0];
  const assignment = (m: { memberAssignment: Buffer }) => AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment[topic] ?? [];
  // the group's committed offsets, sampled throughout
  const seen = new Map<number, bigint[]>(PARTITIONS.map((p) => [p, []]));
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const [offsets] = await admin.fetchOffsets({ groupId: t.groupId, topics: [topic] }).catch(() => []);
      for (const p of offsets?.partitions ?? []) {
        const v = BigInt(p.offset);
        const values = seen.get(p.partition)!;
        if (v >= 0n && values.at(-1) !== v) values.push(v);
      }
      await sleep(50);
    }
  })();
  const a = member('a');
  const b = member('b');
  let bJoined: Promise<void> | undefined;
  try {
    await produceRange(0, 5);
    await a.start();
    await eventually(() => writes.filter((w) => w.member === 'a').length >= 20 && parkedByA.size === PARTITIONS.length, 'A wrote the first items, one parked per partition');
    await eventually(async () => PARTITIONS.every((p) => seen.get(p)!.at(-1) === 2n), 'every partition committed up to its parked item');
    const aId = (await describe())!.members[0]!.memberId;
    parking = false;
    holdNext = true;
    await produceRange(5, 10);
    await eventually(() => aHolding, 'A holds a write');
    bJoined = b.start(); // B's join completes only with the rebalance, which waits for A's write in hand
    await eventually(async () => (await describe())?.state !== 'Stable', 'B joining: the group rebalances');
    releaseA();
    await bJoined;
    let lost: number[] = [];
    await eventually(async () => {
      const g = await describe();
      if (g?.state !== 'Stable' || g.members.length !== 2) return false;
      const bMember = g.members.find((m) => m.memberId !== aId);
      lost = bMember ? assignment(bMember) : [];
      return lost.length > 0 && g.members.every((m) => assignment(m).length > 0);
    }, 'both members stable, each with partitions');
    await eventually(() => groupCaughtUp(kafka, t.groupId, topic), 'every item committed', 60_000);
    for (const p of lost) {
      assert.deepEqual([...parkedByA].filter((i) => i.startsWith(`${p}:`)), [], `A let go of its parked item of partition ${p}`);
      assert.ok(droppedByA.includes(`${p}:2`), `the parked item of partition ${p} was dropped`);
      const firstOfB = writes.findIndex((w) => w.member === 'b' && w.partition === p);
      assert.ok(firstOfB >= 0, `B wrote partition ${p}`);
      const lateOfA = writes.slice(firstOfB).filter((w) => w.member === 'a' && w.partition === p).map((w) => w.item);
      assert.deepEqual(lateOfA, [], `A wrote nothing of partition ${p} once B had it`);
      assert.ok(writes.some((w) => w.member === 'b' && w.item === `${p}:2`), `B wrote the item A had parked on partition ${p}`);
    }
    for (const p of PARTITIONS) {
      assert.ok(writes.filter((w) => w.member === 'b').every((w) => lost.includes(w.partition)), 'B wrote only its own partitions');
      for (let i = 0; i < 10; i++) assert.ok(writes.some((w) => w.item === `${p}:${i}`), `${p}:${i} written`);
    }
  } finally {
    releaseA();
    clearInterval(retryParked);
    await bJoined?.catch(() => undefined);
    await Promise.all([a.stop(), b.stop()]);
    sampling = false;
    await sampler;
    await admin.disconnect();
    await producer.disconnect();
  }
  for (const p of PARTITIONS) {
    const values = seen.get(p)!;
    assert.deepEqual(values, [...values].sort((x, y) => (x < y ? -1 : 1)), `partition ${p}: committed offsets only grow: ${values.join(', ')}`);
    assert.equal(values.at(-1), 10n, `partition ${p} committed to its end`);
  }
});
