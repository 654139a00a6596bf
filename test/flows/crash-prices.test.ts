import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Connection } from 'jsforce';
import { salesforcePosition } from '../../src/flows/routed-change.ts';
import type { ShopforceConfig } from '../../src/config/schema.ts';
import type { StackAddresses } from '../../src/stack/stack.ts';
import type { TestSandbox } from '../sandbox/sandbox-helpers.ts';
import { waitForCommands } from '../support/commands.ts';
import { collectThroughSentinel } from '../support/kafka.ts';
import { eventually } from '../support/eventually.ts';
import { startPipelineProcess, type PipelineProcess } from '../support/pipeline-process.ts';
import { pricedCatalogue, type PricedCatalogue } from '../support/priced-catalogue.ts';

const CHANGES = 500;
const PRODUCTS = 5;
/**
 * The reconciler's memory of source positions per key, kept at its least here: the copies of the batch
 * the source writes again after its kill come after other positions of their key (the batch's next
 * edits, the shop's echoes), past this memory, as a replay further back than the default 64 does on a
 * slow machine. Only the replay ids can tell them then.
 */
const SEEN_POSITIONS = 1;
/** The source is killed after writing a batch of at least this many events: all of them come again. */
const KILLED_BATCH = 20;

interface AuditRecord { key: string; origin: string | null; decision: string | null; sourcePosition: string | null }

// 500 price edits by people in Salesforce while `shopforce run` is stopped (SIGTERM), killed
// (SIGKILL), killed inside its source between the Kafka write and the checkpoint, and started
// again: the shop ends with Salesforce's last price of every product, and each edit is applied
// exactly once (a replay after the restart is a DUPLICATE, never an old price applied again).
describe('crash safety: the Salesforce source restarted across 500 price changes', () => {
  let stack: StackAddresses;
  let t: TestSandbox;
  let sf: Connection;
  let catalogue: PricedCatalogue;
  let config: ShopforceConfig;
  let pipeline: PipelineProcess;
  const run = randomUUID().slice(0, 6).toUpperCase();
  const skus = Array.from({ length: PRODUCTS }, (_, i) => `P${run}-${i}`);
  const entryIds: string[] = [];
  const shopPrices = () => catalogue.shopPrices();

  before(async () => {
    catalogue = await pricedCatalogue(skus, (c) => { c.reconcile.seenPositions = SEEN_POSITIONS; });
    ({ stack, t, sf, config } = catalogue);
    entryIds.push(...catalogue.entryIds);
    pipeline = await startPipelineProcess(config);
  });
  after(async () => {
    await pipeline?.cleanup();
    await catalogue?.cleanup();
  });

  test('every product ends with Salesforce\'s last price, and no Salesforce change is applied twice', async (ctx) => {
    await eventually(shopPrices, (p) => skus.every((s) => p[s] === '5.00'), 90_000);

    const last = new Map<string, string>();
    const edit = (i: number) => {
      const p = i % PRODUCTS;
      const cents = 2_000 + i;
      t.sb.admin.userEdit({ object: 'PricebookEntry', id: entryIds[p]!, fields: { UnitPrice: cents / 100 } });
      last.set(skus[p]!, (cents / 100).toFixed(2));
    };
    const pause = () => new Promise((r) => setTimeout(r, 25));
    const exits: Array<number | string | null> = [];
    for (let i = 0; i < CHANGES; i++) {
      if (i === 150) exits.push(await pipeline.stop());
      if (i === 250) await pipeline.restart();
      if (i === 350) exits.push(await pipeline.kill('SIGKILL'));
      if (i === 400) {
        // this start dies by itself in its source, after Kafka took its first batch of at least
        // KILLED_BATCH events (of the ~100 edits made while it was down) and before that batch's
        // checkpoint; not waiting for ready: it may die first
        pipeline.setEnv({ SHOPFORCE_TEST_KILL_AT: `sf-source-between-kafka-write-and-checkpoint:1::${KILLED_BATCH}` });
        await pipeline.start();
      }
      if (i === 450) {
        const stillRunning = new Promise<string>((r) => setTimeout(() => r('still running: no batch that large'), 180_000).unref());
        exits.push(await Promise.race([pipeline.exitedByItself(), stillRunning]));
        pipeline.setEnv({ SHOPFORCE_TEST_KILL_AT: undefined });
        await pipeline.restart();
      }
      edit(i);
      await pause();
    }
    assert.deepEqual(exits, [0, null, null], 'SIGTERM ends the process cleanly (exit 0), SIGKILL kills it, and the source\'s kill point too');

    const want = Object.fromEntries(skus.map((s) => [s, last.get(s)!]));
    const sfPrices = await sf.query<{ UnitPrice: number; Product2: { Sku__c: string } }>(
      `SELECT UnitPrice, Product2.Sku__c FROM PricebookEntry WHERE Product2.Sku__c LIKE 'P${run}-%'`);
    assert.deepEqual(Object.fromEntries(sfPrices.records.map((r) => [r.Product2.Sku__c, r.UnitPrice.toFixed(2)])), want, 'the emulator holds the last edits');
    await eventually(shopPrices, (p) => skus.every((s) => p[s] === want[s]), 180_000, 500);
    assert.deepEqual(await shopPrices(), want);

    // the 500 edits as the source put them on Kafka (people's UPDATEs of our entries; a replayed copy
    // has the position of its first write); the prices are final, so every edit is on the topic already
    const { messages: edited } = await collectThroughSentinel(stack.kafka.brokers, [`${config.kafka.topicNamespace}.sf.cdc.PricebookEntry`], {
      count: 0, match: (m) => entryIds.includes(m.key ?? '') && m.value.changeType === 'UPDATE' && m.headers['sf-change-origin'] === '',
    });
    const edits = new Set(edited.map((m) => salesforcePosition('PricebookEntry', m.value.position)));
    assert.equal(edits.size, CHANGES, 'each edit is on Kafka under its own position');

    const keys = new Set(skus.map((s) => `${config.shopId}|${s}`));
    const audits = await waitForCommands<AuditRecord>(stack, `${config.kafka.topicNamespace}.sync.audit`, (m) => keys.has(m.key ?? ''),
      (all) => { const decided = new Set(all.map((a) => a.sourcePosition)); return [...edits].every((e) => decided.has(e)); }, 120_000);
    const decisions = audits.filter((a) => a.origin === 'SALESFORCE' && a.decision !== null);
    // each position's decisions in order: the first copy decided, every later copy (a replay) a DUPLICATE;
    // a copy decided again (APPLY, or NOOP when it came with the newest image) is a replay not recognised
    const decided = new Map<string, string[]>();
    for (const a of decisions) decided.set(a.sourcePosition ?? '', [...decided.get(a.sourcePosition ?? '') ?? [], a.decision!]);
    const twice = [...decided].filter(([, d]) => d.filter((x) => x !== 'DUPLICATE').length > 1).map(([pos, d]) => `${pos}: ${d.join(' → ')}`);
    const byDecision = Object.fromEntries(['APPLY', 'DUPLICATE', 'NOOP', 'ECHO', 'CONFLICT'].map((d) => [d, decisions.filter((a) => a.decision === d).length]));
    ctx.diagnostic(`Salesforce decisions on the ${PRODUCTS} products: ${JSON.stringify(byDecision)}; ${decided.size} positions decided`);
    assert.ok(byDecision.DUPLICATE! >= KILLED_BATCH, `the batch of at least ${KILLED_BATCH} edits the source had not checkpointed came again, and each was dropped as a duplicate`);
    assert.deepEqual(twice, [], 'no Salesforce source position decided twice: every replayed copy is a DUPLICATE');
    const notOnce = [...edits].filter((e) => decided.get(e)?.[0] !== 'APPLY').map((e) => `${e}: ${decided.get(e)?.join(' → ') ?? 'never decided'}`);
    assert.deepEqual(notOnce, [], `every one of the ${CHANGES} edits applied (each changes the price)`);
  });
});
