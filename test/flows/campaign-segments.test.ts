/**
 * Campaign segments, Salesforce -> shop, against the real stack and the emulator: a campaign of 5,000
 * members made in one Bulk API 2.0 job arrives as 5,000 change events; every member lands in the
 * shop's segment_members, matched by its Contact's shop customer id, and removing 100 in Salesforce
 * removes those 100. The pipeline's own calls to the org stay few: the Contacts' customer ids are read
 * for a whole chunk of members per SOQL, not one call per member.
 */
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Connection } from 'jsforce';
import pg from 'pg';
import type { ShopforceConfig } from '../../src/config/schema.ts';
import { compressedJsonCodec } from '../../src/kafka/compressed-codec.ts';
import type { EntityState } from '../../src/processors/reconciler/index.ts';
import type { StackAddresses } from '../../src/stack/stack.ts';
import { startTestSandbox, jwtConnection, type TestSandbox } from '../sandbox/sandbox-helpers.ts';
import { getTestStack } from '../support/stack.ts';
import { testPipelineConfig } from '../support/pipeline.ts';
import { eventually } from '../support/eventually.ts';
import { collectMessages } from '../support/kafka.ts';
import { sandboxEnv, startPipelineProcess, type PipelineProcess } from '../support/pipeline-process.ts';

const MEMBERS = 5_000;
const REMOVED = 100;
/** Members then added one at a time, each its own transaction. */
const ONE_BY_ONE = 60;

type Counters = ReturnType<TestSandbox['sb']['admin']['counters']>;
/** Calls by API between two counter snapshots. */
const callsBetween = (a: Counters, b: Counters) => Object.fromEntries(Object.keys(b.byApi).map((k) => [k, (b.byApi[k] ?? 0) - (a.byApi[k] ?? 0)]).filter(([, n]) => n !== 0));

describe('campaign segments: Campaign + CampaignMember -> customer_segments + segment_members', () => {
  let stack: StackAddresses;
  let t: TestSandbox;
  let sf: Connection;
  let db: pg.Client;
  let config: ShopforceConfig;
  let pipeline: PipelineProcess;
  const shopId = `seg-${randomUUID().slice(0, 6)}`;
  const tag = shopId.slice(4).toUpperCase();
  const segment = `SEG-${tag}`;
  const customerOf = (i: number) => `C-${tag}-${String(i).padStart(5, '0')}`;
  const contactIds = new Map<string, string>(); // customer number -> Contact id
  const memberIds: string[] = [];
  let campaignId: string;

  const shopMembers = async () => (await db.query<{ customer_number: string; member_status: string }>(
    'SELECT customer_number, member_status FROM segment_members WHERE shop_id = $1 AND segment_code = $2 ORDER BY customer_number', [shopId, segment])).rows;
  const memberCount = async () => Number((await db.query('SELECT count(*) FROM segment_members WHERE shop_id = $1 AND segment_code = $2', [shopId, segment])).rows[0].count);

  before(async () => {
    stack = await getTestStack();
    t = await startTestSandbox();
    sf = await jwtConnection(t.sb);
    db = new pg.Client({ connectionString: stack.postgres.url });
    await db.connect();
    // the shop's customers, and their Contacts in the org (as the customer flow left them)
    await db.query(`INSERT INTO customers (shop_id, customer_number, email, first_name, last_name)
      SELECT $1, 'C-' || $2 || '-' || lpad(i::text, 5, '0'), 'c' || i || '@' || lower($2) || '.example.com', 'Buyer', 'No ' || i FROM generate_series(0, $3 - 1) i`,
    [shopId, tag, MEMBERS + ONE_BY_ONE]);
    const contacts = await sf.bulk2.loadAndWaitForResults({
      object: 'Contact', operation: 'insert',
      input: Array.from({ length: MEMBERS + ONE_BY_ONE }, (_, i) => ({ LastName: `No ${i}`, FirstName: 'Buyer', Shop_Customer_Id__c: `${shopId}|${customerOf(i)}` })),
    });
    assert.equal(contacts.failedResults.length, 0);
    for (const r of contacts.successfulResults as unknown as Array<Record<string, string>>) contactIds.set(r.Shop_Customer_Id__c!.split('|')[1]!, r.sf__Id!);
    config = testPipelineConfig(stack, sandboxEnv(t), (c) => {
      c.shopId = shopId;
      c.salesforce.apiVersion = '60.0';
      for (const e of ['customer', 'order', 'product'] as const) c.entities[e].enabled = false;
      c.entities.campaign_segment.enabled = true;
    });
    pipeline = await startPipelineProcess(config);
  });
  after(async () => {
    await pipeline?.cleanup();
    await db?.end();
    await t?.cleanup();
  });

  test(`a campaign of ${MEMBERS.toLocaleString('en')} members made by one Bulk job lands whole in the shop, with few calls to the org`, async (ctx) => {
    campaignId = ((await sf.sobject('Campaign').create({ Name: 'Spring sale', IsActive: true, Shop_Segment_Id__c: segment })) as { id: string }).id;
    await eventually(async () => (await db.query('SELECT name, active FROM customer_segments WHERE shop_id = $1 AND segment_code = $2', [shopId, segment])).rows[0],
      (r) => r?.name === 'Spring sale' && r.active === true, 60_000);

    const before = t.sb.admin.counters();
    const started = Date.now();
    const members = await sf.bulk2.loadAndWaitForResults({
      object: 'CampaignMember', operation: 'insert',
      input: Array.from({ length: MEMBERS }, (_, i) => ({ CampaignId: campaignId, ContactId: contactIds.get(customerOf(i)), Status: 'Sent' })),
    });
    assert.equal(members.failedResults.length, 0);
    for (const r of members.successfulResults as unknown as Array<Record<string, string>>) memberIds.push(r.sf__Id!);
    const ours = callsBetween(before, t.sb.admin.counters()); // the Bulk job's own calls, and whatever the pipeline did meanwhile

    await eventually(memberCount, (n) => n >= MEMBERS, 300_000, 1_000);
    const landedMs = Date.now() - started;
    const rows = await shopMembers();
    assert.deepEqual(rows.map((r) => r.customer_number), Array.from({ length: MEMBERS }, (_, i) => customerOf(i)), 'each member once, as its shop customer');
    assert.ok(rows.every((r) => r.member_status === 'sent'));
    await new Promise((r) => setTimeout(r, 3_000)); // the shop's rows come back through Debezium: nothing more to do
    const calls = callsBetween(before, t.sb.admin.counters());
    const lookups = calls.query ?? 0;
    ctx.diagnostic(`${MEMBERS} members in the shop ${(landedMs / 1000).toFixed(1)} s after the Bulk job started; org calls meanwhile by API ${JSON.stringify(calls)} (the Bulk job's own, while it ran: ${JSON.stringify(ours)})`);
    assert.ok(lookups >= Math.ceil(MEMBERS / 200), `the Contacts' customer ids were read by SOQL (${lookups} queries)`);
    assert.ok(lookups <= MEMBERS / 50, `${lookups} queries for ${MEMBERS} members: a chunk of members per query, not one call per member`);
    assert.equal((calls.rest ?? 0) + (calls.composite ?? 0) + (calls.collections ?? 0), 0, 'no record read or written one by one');
    assert.equal(await memberCount(), MEMBERS, 'nothing written twice or removed');
  });

  test(`removing ${REMOVED} members in Salesforce removes those ${REMOVED} in the shop`, async (ctx) => {
    const before = t.sb.admin.counters();
    const gone = memberIds.slice(0, REMOVED);
    const deleted = await sf.bulk2.loadAndWaitForResults({ object: 'CampaignMember', operation: 'delete', input: gone.map((Id) => ({ Id })) });
    assert.equal(deleted.failedResults.length, 0);
    await eventually(memberCount, (n) => n <= MEMBERS - REMOVED, 120_000, 500);
    await new Promise((r) => setTimeout(r, 3_000));
    const rows = await shopMembers();
    assert.deepEqual(rows.map((r) => r.customer_number), Array.from({ length: MEMBERS - REMOVED }, (_, i) => customerOf(i + REMOVED)), 'exactly the removed ones are gone');
    ctx.diagnostic(`org calls while ${REMOVED} members were removed: ${JSON.stringify(callsBetween(before, t.sb.admin.counters()))}`);
  });

  test(`members added one by one (${ONE_BY_ONE}, 20 a second) all arrive; a member who responds is "responded" in the shop`, async () => {
    // each its own change event, routed through its own partition: some are decided after one committed later
    const added = Array.from({ length: ONE_BY_ONE }, (_, i) => customerOf(MEMBERS + i));
    for (const customer of added) {
      await sf.sobject('CampaignMember').create({ CampaignId: campaignId, ContactId: contactIds.get(customer), Status: 'Sent' });
      await new Promise((r) => setTimeout(r, 50));
    }
    t.sb.admin.userEdit({ object: 'CampaignMember', id: memberIds[REMOVED]!, fields: { Status: 'Responded', HasResponded: true } });
    const rows = await eventually(shopMembers, (r) => added.every((c) => r.some((m) => m.customer_number === c)) && r.some((m) => m.member_status === 'responded'), 60_000)
      .catch(async () => shopMembers());
    assert.deepEqual(added.filter((c) => !rows.some((m) => m.customer_number === c)), [], 'every member added one by one is in the shop');
    assert.deepEqual(rows.filter((m) => m.member_status !== 'sent').map((m) => [m.customer_number, m.member_status]), [[customerOf(REMOVED), 'responded']]);
    assert.equal(rows.length, MEMBERS - REMOVED + ONE_BY_ONE);
  });

  test('the reconciler keeps the segment\'s state bounded: one compressed value well below the broker\'s 1 MB record limit', async (ctx) => {
    const topic = `${config.kafka.groupIdPrefix}.reconciler.state-changelog`;
    const key = `${shopId}|${segment}`;
    const values = await collectMessages(stack.kafka.brokers, [topic], { match: (m) => m.key === key, until: () => false, timeoutMs: 5_000, raw: true });
    const last = values.at(-1)!.rawValue!;
    const state = compressedJsonCodec<EntityState>().decode(last);
    const images = Object.keys(state.salesforce.members as Record<string, unknown>).length;
    ctx.diagnostic(`segment state: ${last.length} bytes on the changelog (${JSON.stringify(state).length} as JSON) for ${images} member images; ${values.length} changelog writes for the key`);
    assert.equal(images, MEMBERS - REMOVED + ONE_BY_ONE);
    assert.ok(last.length < 250_000, `${last.length} bytes`);
    assert.deepEqual(Object.keys(Object.values(state.salesforce.members as Record<string, Record<string, unknown>>)[0]!).sort(), ['ContactId.Shop_Customer_Id__c', 'Status'], 'a member image keeps only what the mapping reads');
  });
});
