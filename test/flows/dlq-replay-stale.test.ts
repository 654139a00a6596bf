import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ShopforceConfig } from '../../src/config/schema.ts';
import { replayDlq } from '../../src/dlq/dlq-reader.ts';
import { externalIdOf } from '../../src/entities/keys.ts';
import { topicNames } from '../../src/flows/topic-names.ts';
import { collectMessages } from '../support/kafka.ts';
import { eventually } from '../support/eventually.ts';
import { testPipelineConfig } from '../support/pipeline.ts';
import { sandboxEnv, startPipelineProcess, type PipelineProcess } from '../support/pipeline-process.ts';
import { startSyncFixture, type SyncFixture } from '../support/sync-fixture.ts';

const SKIP_LOG = /replayed dead letters older than their record's last change in Salesforce: not written, the newer value stays/;

// An operator fixes the cause of a refused Salesforce write and runs `shopforce dlq replay`. A dead
// letter whose record changed in the org since (here by a later change of the shop, synced) must not
// put its old value back; one whose record did not change lands as if never refused.
describe('shopforce dlq replay of a refused Salesforce write, through `shopforce run`', () => {
  let f: SyncFixture;
  let config: ShopforceConfig;
  let pipeline: PipelineProcess;
  const run = randomUUID().slice(0, 6).toUpperCase();
  const ext = (customer: string) => externalIdOf(config.shopId, customer);
  const lastName = async (customer: string) =>
    (await f.sf.query<{ LastName: string }>(`SELECT LastName FROM Contact WHERE Shop_Customer_Id__c = '${ext(customer)}'`)).records[0]?.LastName;
  const setLastName = (customer: string, name: string) => f.db.query('update customers set last_name = $2 where customer_number = $1', [customer, name]);

  /** A shop customer, synced to a Contact. */
  async function syncedCustomer(name: string): Promise<string> {
    const customer = `C-${run}-${name}`;
    await f.db.query(`insert into customers (customer_number, email, first_name, last_name) values ($1, $2, 'Ada', 'First')`, [customer, `${name.toLowerCase()}.${run.toLowerCase()}@example.com`]);
    await eventually(() => lastName(customer), (n) => n === 'First', 90_000);
    return customer;
  }

  /**
   * The customer's change is refused by the org (a validation rule, not retryable): its Account and
   * Contact writes (one call or two) are dead-lettered.
   */
  async function refusedLastName(customer: string, name: string): Promise<void> {
    f.t.sb.admin.setFaults({ failNext: { count: 2, errorCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION', message: 'refused by a validation rule', api: 'collections' } });
    await setLastName(customer, name);
    await collectMessages(f.stack.kafka.brokers, [topicNames(config.kafka.topicNamespace).dlq], {
      match: (m) => m.headers['dlq.processor'] === 'sf-sink' && (m.key ?? '').includes(customer), until: (all) => all.length >= 2, timeoutMs: 120_000, raw: true,
    });
    assert.equal(await lastName(customer), 'First', 'the refused write did not land');
  }

  before(async () => {
    f = await startSyncFixture();
    config = testPipelineConfig(f.stack, sandboxEnv(f.t), (c) => {
      c.salesforce.apiVersion = '60.0';
      c.sink.lingerMs = 100;
    });
    pipeline = await startPipelineProcess(config);
  });
  after(async () => {
    await pipeline?.cleanup();
    await f?.cleanup();
  });

  test('a dead letter whose record changed since is not written: the org keeps the newer value, and the sink says so', async () => {
    const stale = await syncedCustomer('STALE');
    const fresh = await syncedCustomer('FRESH');
    await refusedLastName(stale, 'Refused');
    await refusedLastName(fresh, 'Refused');
    f.t.sb.admin.clearFaults();
    // the stale customer changes again in the shop: the org gets the newer value
    await setLastName(stale, 'Newer');
    await eventually(() => lastName(stale), (n) => n === 'Newer', 90_000);

    const replayed = await replayDlq(config.kafka, topicNames(config.kafka.topicNamespace).dlq, (r) => r.processor === 'sf-sink');
    const keys = replayed.map((r) => r.key?.toString('utf8') ?? '');
    assert.ok([stale, fresh].every((c) => keys.some((k) => k.includes(c))), `the dead letters of both customers sent back: ${keys.join(', ')}`);

    // control: the unchanged record gets the replayed value — so the replays reached the sink
    await eventually(() => lastName(fresh), (n) => n === 'Refused', 90_000);
    await eventually(async () => pipeline.output(), (out) => SKIP_LOG.test(out), 60_000);
    assert.equal(await lastName(stale), 'Newer', 'the newer value stays');
  });
});
