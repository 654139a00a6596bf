import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Connection } from 'jsforce';
import { salesforcePosition } from '../../src/flows/routed-change.ts';
import type { ShopforceConfig } from '../../src/config/schema.ts';
import type { StackAddresses } from '../../src/stack/stack.ts';
import type { TestSandbox } from '../sandbox/sandbox-helpers.ts';
import { collectThroughSentinel } from '../support/kafka.ts';
import { eventually } from '../support/eventually.ts';
import { PipelineProcess } from '../support/pipeline-process.ts';
import { pricedCatalogue, type PricedCatalogue } from '../support/priced-catalogue.ts';

const PRODUCTS = 5;
const CHANNEL = '/data/PricebookEntryChangeEvent';

/** A sample of a copy's Prometheus text: the first line of `name` whose labels include all of `labels` (0 when absent). */
function sample(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

/** Price edits of PricebookEntry read by a copy's source (its events metric). */
async function updatesRead(p: PipelineProcess): Promise<number> {
  return sample(await p.metrics(), 'shopforce_sf_source_events_total', { object: 'PricebookEntry', change_type: 'UPDATE' });
}

async function ownsPrices(p: PipelineProcess): Promise<boolean> {
  return sample(await p.metrics(), 'shopforce_sf_source_channel_owned', { channel: CHANNEL }) === 1;
}

// Two copies of `shopforce run` share the Salesforce channels: each channel is read by one of them,
// so 500 price edits are read 500 times in all, not 1000; when the owner of the price channel is
// killed (SIGKILL) in the middle, the other takes the channel over from its checkpoint: no edit is
// lost, the shop ends with the last prices, and in steady state each edit is again read once.
describe('the Salesforce channels shared by two copies of run, one killed in the middle', () => {
  let stack: StackAddresses;
  let t: TestSandbox;
  let sf: Connection;
  let catalogue: PricedCatalogue;
  let config: ShopforceConfig;
  const copies: PipelineProcess[] = [];
  const run = randomUUID().slice(0, 6).toUpperCase();
  const skus = Array.from({ length: PRODUCTS }, (_, i) => `S${run}-${i}`);
  const entryIds: string[] = [];
  const last = new Map<string, string>();
  const shopPrices = () => catalogue.shopPrices();

  const edits = async (from: number, to: number, during?: (i: number) => Promise<void>) => {
    for (let i = from; i < to; i++) {
      await during?.(i);
      const p = i % PRODUCTS;
      const cents = 2_000 + i;
      t.sb.admin.userEdit({ object: 'PricebookEntry', id: entryIds[p]!, fields: { UnitPrice: cents / 100 } });
      last.set(skus[p]!, (cents / 100).toFixed(2));
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const lastPricesInShop = async () => {
    const want = Object.fromEntries(skus.map((s) => [s, last.get(s)!]));
    await eventually(shopPrices, (p) => skus.every((s) => p[s] === want[s]), 180_000, 500);
  };
  /** The live copies' reads of price edits, summed, once they stopped growing. */
  const settledReads = async (live: PipelineProcess[]) => {
    let previous = -1;
    return eventually(async () => {
      const reads = await Promise.all(live.map(updatesRead));
      const sum = reads.reduce((a, b) => a + b, 0);
      const settled = sum === previous;
      previous = sum;
      return { reads, settled };
    }, (r) => r.settled, 60_000, 2_000);
  };
  const owners = async (live: PipelineProcess[]) => (await Promise.all(live.map(ownsPrices))).map((o, i) => (o ? i : -1)).filter((i) => i >= 0);

  before(async () => {
    catalogue = await pricedCatalogue(skus);
    ({ stack, t, sf, config } = catalogue);
    entryIds.push(...catalogue.entryIds);
    for (let i = 0; i < 2; i++) {
      // the first copy sets the router's group at the shop's current end; the second joins that group
      const copy = new PipelineProcess(config, { shopHistory: i > 0 });
      copies.push(copy);
      await copy.start();
      await copy.waitReady();
    }
  });
  after(async () => {
    for (const c of copies) await c.cleanup();
    await catalogue?.cleanup();
  });

  test('each price edit is read by one copy; a killed owner\'s channel is taken over without losing an edit', async (ctx) => {
    await eventually(shopPrices, (p) => skus.every((s) => p[s] === '5.00'), 120_000);
    // one copy owns the price channel (eventually fails otherwise)
    await eventually(() => owners(copies), (o) => o.length === 1, 60_000);
    const before1 = await settledReads(copies);

    // 1. both copies up: 200 edits, each read once in all
    await edits(0, 200);
    await lastPricesInShop();
    const after1 = await settledReads(copies);
    const phase1 = after1.reads.map((n, i) => n - before1.reads[i]!);
    ctx.diagnostic(`200 edits read by the two copies: ${phase1.join(' + ')}`);
    assert.equal(phase1.reduce((a, b) => a + b, 0), 200, 'the two copies read each of the 200 edits once in all');

    // 2. the owner of the price channel killed after 50 of 200 more edits: the other takes the channel over
    const [owner] = await owners(copies);
    const survivor = copies[1 - owner!]!;
    const survivorBefore = await updatesRead(survivor);
    await edits(200, 400, async (i) => { if (i === 250) assert.equal(await copies[owner!]!.kill('SIGKILL'), null); });
    await lastPricesInShop();
    assert.equal(await ownsPrices(survivor), true, 'the surviving copy owns the price channel');
    const survivorRead = (await settledReads([survivor])).reads[0]! - survivorBefore;
    ctx.diagnostic(`the survivor read ${survivorRead} of the 200 edits (the killed owner had read the rest before its death)`);
    assert.ok(survivorRead >= 150 && survivorRead <= 200, `the survivor read the edits since the kill, from the killed copy's checkpoint (${survivorRead})`);

    // 3. the killed copy started again: steady state, each of 100 more edits read once in all
    await copies[owner!]!.start();
    await copies[owner!]!.waitReady();
    const before3 = await settledReads(copies);
    await edits(400, 500);
    await lastPricesInShop();
    const after3 = await settledReads(copies);
    const phase3 = after3.reads.map((n, i) => n - before3.reads[i]!);
    ctx.diagnostic(`100 edits after the restart read by the two copies: ${phase3.join(' + ')}; owner now copy ${(await owners(copies)).join(',')}`);
    assert.equal(phase3.reduce((a, b) => a + b, 0), 100, 'after the handover, each edit is again read once in all');
    assert.deepEqual(await owners(copies), [1 - owner!], 'the channel stays with the copy that took it over (ownership is sticky)');

    // none lost: each of the 500 edits is on Kafka under its own position
    const { messages: edited } = await collectThroughSentinel(stack.kafka.brokers, [`${config.kafka.topicNamespace}.sf.cdc.PricebookEntry`], {
      count: 0, match: (m) => entryIds.includes(m.key ?? '') && m.value.changeType === 'UPDATE' && m.headers['sf-change-origin'] === '',
    });
    const positions = edited.map((m) => salesforcePosition('PricebookEntry', m.value.position));
    ctx.diagnostic(`${edited.length} messages for the 500 edits on sf.cdc.PricebookEntry (${edited.length - new Set(positions).size} written again at the handover)`);
    assert.equal(new Set(positions).size, 500, 'each edit is on Kafka under its own position');
    const sfPrices = await sf.query<{ UnitPrice: number; Product2: { Sku__c: string } }>(`SELECT UnitPrice, Product2.Sku__c FROM PricebookEntry WHERE Product2.Sku__c LIKE 'S${run}-%'`);
    assert.deepEqual(await shopPrices(), Object.fromEntries(sfPrices.records.map((r) => [r.Product2.Sku__c, r.UnitPrice.toFixed(2)])), 'the shop has the org\'s prices');
  });
});
