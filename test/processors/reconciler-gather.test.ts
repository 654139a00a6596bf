/**
 * Gathered many-part changes (a campaign's members), with a real partition store and a JSON encoder in
 * place of the registry: member changes only update the key's images until the punctuation decides
 * them together, gatherMs after the first; a change of the Campaign itself is decided at once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configSchema } from '../../src/config/schema.ts';
import { salesforcePosition, type RoutedChange } from '../../src/flows/routed-change.ts';
import { compressedJsonCodec } from '../../src/kafka/compressed-codec.ts';
import { PartitionStore } from '../../src/kafka/state-store.ts';
import type { Output, RecordContext } from '../../src/kafka/types.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createReconciler, type EntityState } from '../../src/processors/reconciler/index.ts';

const GATHER_MS = 1_000;
const config = configSchema.parse({
  shopId: 'shop-1', kafka: { brokers: ['127.0.0.1:59092'] }, registry: { url: 'http://127.0.0.1:58081' }, shop: { databaseUrl: 'postgres://x/y' },
  salesforce: { loginUrl: 'https://127.0.0.1:58443', authType: 'client_credentials', clientId: 'c', clientSecret: 's' },
  entities: { campaign_segment: { enabled: true, gatherMs: GATHER_MS } },
});
const encode = async (subject: string, value: unknown) => Buffer.from(JSON.stringify({ subject, value }));
const decoded = (o: Output) => JSON.parse(String(o.value)) as { subject: string; value: any };
const log = createLogger('test.gather', 'error');
const KEY = 'shop-1|SPRING';

let position = 0;
function event(part: 'Campaign' | 'CampaignMember', recordId: string, image: Record<string, unknown> | null, op: 'UPSERT' | 'DELETE' = 'UPSERT'): RoutedChange {
  position++;
  return {
    entity: 'campaign_segment', key: KEY, origin: 'SALESFORCE', part, op, image, recordId, sourcePosition: salesforcePosition(part, String(position)),
    transactionId: `t${position}`, eventTime: 1_764_000_000_000 + position, sourceVersion: position, changeOrigin: '', ours: false,
  };
}
const campaign = (name: string) => event('Campaign', '701000000000001AAA', { Id: '701000000000001AAA', Name: name, IsActive: true, Shop_Segment_Id__c: 'SPRING' });
const memberId = (i: number) => `00v${String(i).padStart(15, '0')}`;
const member = (i: number, status = 'Sent') => event('CampaignMember', memberId(i), { 'ContactId.Shop_Customer_Id__c': `shop-1|C-${String(i).padStart(5, '0')}`, Status: status });

function setup() {
  const reconciler = createReconciler(config, encode);
  const store = new PartitionStore<EntityState>(0, compressedJsonCodec<EntityState>());
  const handle = async (value: RoutedChange) => {
    const out = await reconciler.handle({
      topic: 'sync.in.campaign_segment', partition: 0, offset: '0', timestamp: '0', key: null, value, headers: {}, message: {} as any,
      state: store, attempt: 1, signal: new AbortController().signal, log, setSourceTime: () => {},
    } as RecordContext<unknown, EntityState>);
    store.acceptRecord();
    return out;
  };
  const punctuate = async (now: number, final = false) => {
    const out = await reconciler.punctuate({ state: store, now, final, log });
    store.acceptRecord();
    return out;
  };
  return { reconciler, store, handle, punctuate };
}
const shopWrites = (out: Output[]) => out.filter((o) => decoded(o).subject === 'sync.out.shop-value').map((o) => decoded(o).value);
const decisions = (out: Output[]) => out.filter((o) => decoded(o).subject === 'sync.audit-value').map((o) => decoded(o).value.decision);

test('2,000 member changes make one decision when their run is due: one canonical change, every member written once', async () => {
  const { reconciler, store, handle, punctuate } = setup();
  assert.ok(reconciler.punctuateIntervalMs! <= GATHER_MS / 5, 'the punctuation looks often enough');
  const created = await handle(campaign('Spring sale'));
  assert.deepEqual(shopWrites(created).map((w) => w.table), ['customer_segments'], 'the Campaign is decided at once');
  const started = Date.now();
  for (let i = 0; i < 2_000; i++) assert.deepEqual(await handle(member(i)), [], 'a member change waits for its run');
  assert.deepEqual(await punctuate(started + GATHER_MS / 2), [], 'not due yet');
  const out = await punctuate(Date.now() + GATHER_MS + 1);
  assert.deepEqual(decisions(out), ['APPLY']);
  assert.equal(out.filter((o) => decoded(o).subject === 'sync.campaign_segment-value').length, 1, 'one canonical change');
  const writes = shopWrites(out);
  assert.equal(writes.length, 2_000);
  assert.ok(writes.every((w) => w.table === 'segment_members' && w.row.member_status === 'sent'));
  assert.deepEqual(await punctuate(Date.now() + 10 * GATHER_MS), [], 'the run is gone once decided');

  // a redelivered member change is still a duplicate (its position was remembered when it was gathered)
  position--;
  const again = await handle(member(1_999));
  position++;
  assert.deepEqual(decisions(again), ['DUPLICATE']);

  // 100 removed: one decision that deletes just those rows
  for (let i = 0; i < 100; i++) await handle(event('CampaignMember', memberId(i), null, 'DELETE'));
  const removed = shopWrites(await punctuate(Date.now() + GATHER_MS + 1));
  assert.deepEqual([removed.length, new Set(removed.map((w) => w.operation))], [100, new Set(['DELETE'])]);
  const kept = Object.keys((store.get(KEY)!.salesforce.members as Record<string, unknown>)).length;
  assert.equal(kept, 1_900);
  const bytes = compressedJsonCodec<EntityState>().encode(store.get(KEY)!).length;
  assert.ok(bytes < 200_000, `the key's state takes ${bytes} bytes on the changelog`);
});

test('a change of the Campaign decides at once, with the members gathered so far; a graceful stop decides the open runs', async () => {
  const { handle, punctuate } = setup();
  await handle(campaign('Spring sale'));
  for (let i = 0; i < 10; i++) await handle(member(i));
  const renamed = await handle(campaign('Spring sale 2'));
  assert.deepEqual(shopWrites(renamed).map((w) => `${w.table} ${w.row.name ?? w.row.customer_number}`), [
    'customer_segments Spring sale 2', ...Array.from({ length: 10 }, (_, i) => `segment_members C-${String(i).padStart(5, '0')}`),
  ]);
  assert.deepEqual(await punctuate(Date.now() + 10 * GATHER_MS), [], 'its run was decided with it');
  await handle(member(10, 'Responded'));
  const final = await punctuate(Date.now(), true);
  assert.deepEqual(shopWrites(final).map((w) => `${w.row.customer_number} ${w.row.member_status}`), ['C-00010 responded']);
});

test('a member image the mapping cannot read fails with its change (dead-lettered) and is not kept to fail the run', async () => {
  const { store, handle, punctuate } = setup();
  await handle(campaign('Spring sale'));
  await handle(member(1));
  await assert.rejects(handle(event('CampaignMember', memberId(2), { 'ContactId.Shop_Customer_Id__c': { not: 'text' }, Status: 'Sent' })), /expected text/);
  store.discardRecord();
  assert.deepEqual(Object.keys(store.get(KEY)!.salesforce.members as Record<string, unknown>), [memberId(1)]);
  assert.deepEqual(shopWrites(await punctuate(Date.now() + GATHER_MS + 1)).map((w) => w.row.customer_number), ['C-00001']);
});
