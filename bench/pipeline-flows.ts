/**
 * Every flow's latency, one after the other, through the whole pipeline: the real stack (PostgreSQL,
 * Debezium, Kafka, registry), the Salesforce emulator in this process and `shopforce run`'s stages in
 * this process, all eight entities on. For each flow (and each direction of the two-way ones) a few hundred
 * changes are made at a modest paced rate on the side that masters them, one change per commit, each on
 * its own record; reported: the latency from the commit to the write on the other side (p50/p95/p99/max)
 * and the Salesforce API calls the pipeline made for them.
 *
 * Commit: shop side, the time COMMIT returned to the writing client; org side, the time the API call
 * (or the person's edit, the sandbox's admin `userEdit`) returned.
 * Write on the other side: org side, the emulator's CreatedDate / LastModifiedDate (ms, same process and
 * clock); shop side, the shop sink's transaction time (now()): a new row's created_at, or the sink's
 * bookkeeping `shopforce_applied_writes.applied_at` of the row it updated (same machine clock).
 * API calls: calls to the emulator's /services/data (REST, collections, composite, query, Bulk: what the
 * daily quota counts) from the first change of the flow until everything landed plus a 3 s settle, minus the
 * bench's own (its writes in the org and its SOQL polls). Pub/Sub streaming and OAuth are not counted.
 *
 * Run: node --import tsx bench/pipeline-flows.ts [changes=300] [rate=8]
 * Env: BENCH_STOCK_WINDOW_MS (entities.stock.windowMs, default 1000), BENCH_LINGER_MS (sink.lingerMs).
 * Exits 1 when a flow does not fully land.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Connection } from 'jsforce';
import type { ShopforceConfig } from '../src/config/schema.ts';
import { externalIdOf } from '../src/entities/keys.ts';
import type { Pipeline } from '../src/run/pipeline.ts';
import type { CounterSnapshot } from '../src/sandbox/admin/counters.ts';
import { loadCatalogue } from '../src/seed/org-catalogue.ts';
import type { TestSandbox } from '../test/sandbox/sandbox-helpers.ts';
import { latencySummary, paced, pollUntil, type LatencySummary } from './lib/latency.ts';
import { metricDelta, scrape } from './lib/metrics.ts';
import { machineLine, startBenchPipeline } from './lib/pipeline-bench.ts';

const CHANGES = Number(process.argv[2] ?? 300);
const RATE = Number(process.argv[3] ?? 8);
const STOCK_WINDOW_MS = Number(process.env.BENCH_STOCK_WINDOW_MS ?? 1_000);
const LAND_TIMEOUT_MS = 180_000;
const SETTLE_MS = 3_000;
const CAMPAIGNS = 3;
/** the /services/data APIs: each call is one the org's daily quota counts */
const DATA_APIS = ['rest', 'composite', 'collections', 'query', 'bulk', 'soap'] as const;

const run = randomUUID().slice(0, 6).toUpperCase();
const shopId = `bf-${run.toLowerCase()}`;
const P = `F${run}`;
const sku = (i: number) => `${P}-P${i}`;
const customer = (i: number) => `${P}-C${i}`;
const order = (i: number) => `${P}-O${i}`;
const ticket = (i: number) => `${P}-T${i}`;
const txn = (i: number) => `pi_${P}_${i}`;
const segment = (k: number) => `${P}-S${k}`;
const WAREHOUSE = 'WH-1';
const START_QTY = 1_000;
const OLD_PRICE = 10;
const NEW_PRICE = 12.34;
const progress = (msg: string) => process.stderr.write(`[pipeline-flows ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

/** The bench's own calls to the org's /services/data, by API, to take out of the emulator's counts. */
const own: Record<string, number> = {};
const ownCall = (api: 'rest' | 'query', n = 1) => { own[api] = (own[api] ?? 0) + n; };

/** A SOQL query of the bench (each page counted as the bench's own call). */
async function soql<T extends Record<string, unknown>>(sf: Connection, q: string): Promise<T[]> {
  const records = (await sf.query<T>(q).run({ autoFetch: true, maxFetch: 1_000_000 })).records;
  ownCall('query', Math.max(1, Math.ceil(records.length / 2_000)));
  return records;
}

/** index of a change from the business key that ends in its number (`...-P17` -> 17) */
const indexOf = (key: string) => Number(/(\d+)$/.exec(key)![1]);
const ms = (iso: string) => Date.parse(iso);

/** Latest write time by change index over several lists of (key, time): a change is complete when every list has it. */
function completeWhenAll(lists: Array<Array<[string, number]>>): Map<number, number> {
  const maps = lists.map((l) => new Map(l.map(([k, t]) => [indexOf(k), t])));
  const out = new Map<number, number>();
  for (const [i, t] of maps[0]!) {
    const others = maps.slice(1).map((m) => m.get(i));
    if (others.every((x) => x !== undefined)) out.set(i, Math.max(t, ...(others as number[])));
  }
  return out;
}

interface Measure { name: string; direction: string; arrivals: Map<number, number> }
interface Flow {
  /** the measures of one run of changes: usually one; payments also measure the Opportunity's status */
  measures: Array<{ name: string; direction: string }>;
  /** makes change i on the source side; resolves to its commit time */
  change(i: number): Promise<number>;
  /** the arrival time on the other side of each change landed so far, per measure */
  arrivals(): Promise<Array<Map<number, number>>>;
}
interface FlowResult {
  measures: Measure[]; commits: number[]; apiCalls: number; byApi: Record<string, number>; writes: string; landed: boolean;
  /** shop CDC records the router read meanwhile: the flow's own and whatever other sessions wrote to the shared shop database */
  shopRecordsRead: number;
  /** mean of source commit -> outputs committed, per processor (the pipeline's end-to-end histogram) */
  stageMeanMs: Record<string, number>;
}

function dataCalls(before: CounterSnapshot, after: CounterSnapshot, ownBefore: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const api of DATA_APIS) {
    const n = (after.byApi[api] ?? 0) - (before.byApi[api] ?? 0) - ((own[api] ?? 0) - (ownBefore[api] ?? 0));
    if (n !== 0) out[api] = n;
  }
  return out;
}

/** Write calls and records by object between two snapshots, as "Object: records in calls (api)". */
function writesBetween(before: CounterSnapshot, after: CounterSnapshot): string {
  const parts: string[] = [];
  for (const [api, objects] of Object.entries(after.writesByApi)) {
    for (const [object, c] of Object.entries(objects)) {
      const b = before.writesByApi[api]?.[object];
      const calls = c.calls - (b?.calls ?? 0);
      if (calls > 0) parts.push(`${object} ${c.written - (b?.written ?? 0)} records in ${calls} ${api} calls`);
    }
  }
  return parts.join(', ') || 'none';
}

async function measure(t: TestSandbox, pipeline: Pipeline, name: string, flow: Flow, benchWritesInOrg: boolean): Promise<FlowResult> {
  progress(`${name}: ${CHANGES} changes at ${RATE}/s`);
  const metricsBefore = await scrape(pipeline);
  const before = t.sb.admin.counters();
  const ownBefore = { ...own };
  const commits = await paced(CHANGES, RATE, async (i) => {
    const at = await flow.change(i);
    if (benchWritesInOrg) ownCall('rest');
    return at;
  });
  const landed = await pollUntil(() => flow.arrivals(), (a) => a.every((m) => m.size >= CHANGES), LAND_TIMEOUT_MS, 1_000);
  if (!landed.ok) progress(`${name}: only ${landed.value.map((m) => m.size).join('/')} of ${CHANGES} landed in ${LAND_TIMEOUT_MS / 1000} s`);
  await sleep(SETTLE_MS);
  const after = t.sb.admin.counters();
  const metricsAfter = await scrape(pipeline);
  const byApi = dataCalls(before, after, ownBefore);
  const consumed = metricDelta(metricsBefore, metricsAfter, 'shopforce_records_consumed_total', 'topic');
  const e2eSum = metricDelta(metricsBefore, metricsAfter, 'shopforce_end_to_end_latency_seconds_sum', 'processor');
  const e2eCount = metricDelta(metricsBefore, metricsAfter, 'shopforce_end_to_end_latency_seconds_count', 'processor');
  return {
    shopRecordsRead: Object.entries(consumed).filter(([topic]) => topic.startsWith('shop.')).reduce((a, [, n]) => a + n, 0),
    stageMeanMs: Object.fromEntries(Object.entries(e2eCount).map(([proc, n]) => [proc, Math.round(((e2eSum[proc] ?? 0) / n) * 1000)])),
    measures: flow.measures.map((m, k) => ({ ...m, arrivals: landed.value[k]! })),
    commits, byApi, apiCalls: Object.values(byApi).reduce((a, b) => a + b, 0), writes: writesBetween(before, after), landed: landed.ok,
  };
}

async function main(): Promise<void> {
  const loadBefore = os.loadavg();
  const { t, db, sf, config: cfg, pipeline: p, close } = await startBenchPipeline(shopId, (c) => {
    for (const e of ['customer', 'order', 'product', 'stock', 'payment', 'invoice', 'support_ticket', 'campaign_segment'] as const) c.entities[e].enabled = true;
    c.entities.stock.windowMs = STOCK_WINDOW_MS;
    if (process.env.BENCH_LINGER_MS) c.sink.lingerMs = Number(process.env.BENCH_LINGER_MS);
  }, progress);
  const results: Array<FlowResult & { flow: string }> = [];
  try {
    const ready = await pollUntil(async () => p.stages.filter((s) => !s.ready()).map((s) => s.name), (notReady) => notReady.length === 0, 90_000, 500);
    if (!ready.ok) throw new Error(`stages not ready: ${ready.value.join(', ')}`);
    const shopCount = async (q: string, args: unknown[]) => Number((await db.query(q, args)).rows[0].count);
    const shopTimes = async (q: string, args: unknown[]) => (await db.query<{ k: string; at: string }>(q, args)).rows.map((r) => [r.k, Number(r.at)] as [string, number]);
    const epochMs = (col: string) => `(extract(epoch FROM ${col}) * 1000)::bigint`;
    const appliedJoin = (table: string, keyExpr: string) => `JOIN shopforce_applied_writes a ON a.table_name = '${table}' AND a.row_key = ${keyExpr}`;

    // ---- setup: the org's catalogue reaches the shop (the product flow); a warehouse in the shop ----
    progress('setup: the catalogue');
    await loadCatalogue(sf, Array.from({ length: CHANGES }, (_, i) => ({ sku: sku(i), name: `Bench item ${i}`, description: null, price: OLD_PRICE, currency: 'EUR', active: true })));
    const catalogue = await pollUntil(() => shopCount('SELECT count(*) FROM products WHERE shop_id = $1 AND price = $2', [shopId, OLD_PRICE]), (n) => n >= CHANGES, LAND_TIMEOUT_MS, 1_000);
    if (!catalogue.ok) throw new Error(`only ${catalogue.value}/${CHANGES} products reached the shop`);
    await db.query("INSERT INTO warehouses (shop_id, warehouse_code, name, country) VALUES ($1, $2, $2, 'DE')", [shopId, WAREHOUSE]);
    const entries = new Map((await soql<{ Id: string; Product2: { Sku__c: string } }>(sf, `SELECT Id, Product2.Sku__c FROM PricebookEntry WHERE Product2.Sku__c LIKE '${P}-P%'`))
      .map((e) => [e.Product2.Sku__c, e.Id]));

    // ---- product: a price change in the org -> the shop's products row ----
    results.push({ flow: 'product', ...await measure(t, p, 'product', {
      measures: [{ name: 'product', direction: 'PricebookEntry price -> shop products' }],
      async change(i) {
        await sf.sobject('PricebookEntry').update({ Id: entries.get(sku(i))!, UnitPrice: NEW_PRICE });
        return Date.now();
      },
      async arrivals() {
        return [completeWhenAll([await shopTimes(`SELECT p.sku AS k, ${epochMs('a.applied_at')} AS at FROM products p ${appliedJoin('products', "p.shop_id || '|' || p.sku")}
          WHERE p.shop_id = $1 AND p.price = $2`, [shopId, NEW_PRICE])])];
      },
    }, true) });

    // ---- customer: a new shop customer -> Account + Contact ----
    results.push({ flow: 'customer', ...await measure(t, p, 'customer', {
      measures: [{ name: 'customer', direction: 'shop customers -> Account + Contact' }],
      async change(i) {
        await db.query("INSERT INTO customers (shop_id, customer_number, email, first_name, last_name) VALUES ($1, $2, $3, 'Bench', $4)",
          [shopId, customer(i), `${customer(i).toLowerCase()}@example.com`, `Customer ${i}`]);
        return Date.now();
      },
      async arrivals() {
        const of = async (object: string) => (await soql<{ Shop_Customer_Id__c: string; CreatedDate: string }>(sf,
          `SELECT Shop_Customer_Id__c, CreatedDate FROM ${object} WHERE Shop_Customer_Id__c LIKE '${shopId}|${P}-C%'`)).map((r) => [r.Shop_Customer_Id__c, ms(r.CreatedDate)] as [string, number]);
        return [completeWhenAll([await of('Account'), await of('Contact')])];
      },
    }, false) });

    // ---- order: a new order with one line -> Opportunity + OpportunityLineItem ----
    const opportunities = new Map<number, string>();
    results.push({ flow: 'order', ...await measure(t, p, 'order', {
      measures: [{ name: 'order', direction: 'shop orders + lines -> Opportunity + line items' }],
      async change(i) {
        await db.query('BEGIN');
        await db.query("INSERT INTO orders (shop_id, order_number, customer_number, status, subtotal_amount, total_amount) VALUES ($1, $2, $3, 'pending', $4, $4)",
          [shopId, order(i), customer(i), NEW_PRICE]);
        await db.query('INSERT INTO order_lines (shop_id, order_number, line_number, sku, product_name, quantity, unit_price, line_total) VALUES ($1, $2, 1, $3, $4, 1, $5, $5)',
          [shopId, order(i), sku(i), `Bench item ${i}`, NEW_PRICE]);
        await db.query('COMMIT');
        return Date.now();
      },
      async arrivals() {
        const opps = await soql<{ Id: string; Shop_Order_Id__c: string; CreatedDate: string }>(sf, `SELECT Id, Shop_Order_Id__c, CreatedDate FROM Opportunity WHERE Shop_Order_Id__c LIKE '${shopId}|${P}-O%'`);
        for (const o of opps) opportunities.set(indexOf(o.Shop_Order_Id__c), o.Id);
        const items = await soql<{ Shop_Line_Id__c: string; CreatedDate: string }>(sf, `SELECT Shop_Line_Id__c, CreatedDate FROM OpportunityLineItem WHERE Shop_Line_Id__c LIKE '${shopId}|${P}-O%'`);
        return [completeWhenAll([
          opps.map((o) => [o.Shop_Order_Id__c, ms(o.CreatedDate)]),
          items.map((l) => [l.Shop_Line_Id__c.replace(/\|1$/, ''), ms(l.CreatedDate)]),
        ])];
      },
    }, false) });

    // ---- payment: a captured payment -> Payment__c, and the Opportunity's payment status ----
    results.push({ flow: 'payment', ...await measure(t, p, 'payment', {
      measures: [{ name: 'payment', direction: 'shop payments -> Payment__c' }, { name: '  its order status', direction: '-> Opportunity.Payment_Status__c' }],
      async change(i) {
        await db.query(`INSERT INTO payments (shop_id, provider_transaction_id, provider, order_number, amount, status, processed_at)
          VALUES ($1, $2, 'stripe', $3, $4, 'captured', now())`, [shopId, txn(i), order(i), NEW_PRICE]);
        return Date.now();
      },
      async arrivals() {
        const payments = await soql<{ Provider_Transaction_Id__c: string; CreatedDate: string }>(sf,
          `SELECT Provider_Transaction_Id__c, CreatedDate FROM Payment__c WHERE Provider_Transaction_Id__c LIKE '${shopId}|stripe|pi_${P}_%'`);
        const paid = await soql<{ Shop_Order_Id__c: string; LastModifiedDate: string }>(sf,
          `SELECT Shop_Order_Id__c, LastModifiedDate FROM Opportunity WHERE Shop_Order_Id__c LIKE '${shopId}|${P}-O%' AND Payment_Status__c = 'Paid'`);
        return [completeWhenAll([payments.map((r) => [r.Provider_Transaction_Id__c, ms(r.CreatedDate)])]), completeWhenAll([paid.map((r) => [r.Shop_Order_Id__c, ms(r.LastModifiedDate)])])];
      },
    }, false) });

    // ---- invoice: an Invoice__c made on an order's Opportunity (by a billing integration) -> shop invoices ----
    results.push({ flow: 'invoice', ...await measure(t, p, 'invoice', {
      measures: [{ name: 'invoice', direction: 'Invoice__c -> shop invoices' }],
      async change(i) {
        await sf.sobject('Invoice__c').create({
          Invoice_Number__c: `${P}-INV-${i}`, Opportunity__c: opportunities.get(i), Amount__c: NEW_PRICE, Tax_Amount__c: 0,
          Paid_Amount__c: NEW_PRICE, Currency__c: 'EUR', Status__c: 'Paid', Issued_Date__c: '2026-12-01',
        } as Record<string, unknown>);
        return Date.now();
      },
      async arrivals() {
        return [completeWhenAll([await shopTimes(`SELECT invoice_number AS k, ${epochMs('created_at')} AS at FROM invoices WHERE shop_id = $1 AND invoice_number LIKE $2`, [shopId, `${P}-INV-%`])])];
      },
    }, true) });

    // ---- support ticket: a new ticket -> Case; an agent closing the Case -> the ticket's status ----
    const caseTimes = async () => (await soql<{ Shop_Ticket_Id__c: string; CreatedDate: string }>(sf,
      `SELECT Shop_Ticket_Id__c, CreatedDate FROM Case WHERE Shop_Ticket_Id__c LIKE '${shopId}|${P}-T%'`)).map((r) => [r.Shop_Ticket_Id__c, ms(r.CreatedDate)] as [string, number]);
    results.push({ flow: 'support_ticket', ...await measure(t, p, 'support_ticket', {
      measures: [{ name: 'support_ticket', direction: 'shop support_tickets -> Case' }],
      async change(i) {
        await db.query(`INSERT INTO support_tickets (shop_id, ticket_number, customer_number, order_number, subject, status, priority, channel)
          VALUES ($1, $2, $3, $4, 'Parcel late', 'open', 'medium', 'email')`, [shopId, ticket(i), customer(i), order(i)]);
        return Date.now();
      },
      async arrivals() { return [completeWhenAll([await caseTimes()])]; },
    }, false) });
    results.push({ flow: 'support_ticket', ...await measure(t, p, 'support_ticket status', {
      measures: [{ name: '  its status back', direction: 'Case closed by an agent -> ticket status' }],
      async change(i) {
        t.sb.admin.userEdit({ object: 'Case', externalId: { field: 'Shop_Ticket_Id__c', value: externalIdOf(shopId, ticket(i)) }, fields: { Status: 'Closed' } });
        return Date.now();
      },
      async arrivals() {
        return [completeWhenAll([await shopTimes(`SELECT s.ticket_number AS k, ${epochMs('a.applied_at')} AS at FROM support_tickets s ${appliedJoin('support_tickets', "s.shop_id || '|' || s.ticket_number")}
          WHERE s.shop_id = $1 AND s.status = 'closed'`, [shopId])])];
      },
    }, false) });

    // ---- campaign segment: a member added to a Campaign (one API call each) -> shop segment_members ----
    const campaigns: string[] = [];
    for (let k = 0; k < CAMPAIGNS; k++) {
      campaigns.push(((await sf.sobject('Campaign').create({ Name: `Bench campaign ${k}`, IsActive: true, Shop_Segment_Id__c: segment(k) })) as { id: string }).id);
      ownCall('rest');
    }
    const segments = await pollUntil(() => shopCount('SELECT count(*) FROM customer_segments WHERE shop_id = $1', [shopId]), (n) => n >= CAMPAIGNS, LAND_TIMEOUT_MS, 500);
    if (!segments.ok) throw new Error(`only ${segments.value}/${CAMPAIGNS} campaigns reached the shop`);
    const contacts = new Map((await soql<{ Id: string; Shop_Customer_Id__c: string }>(sf, `SELECT Id, Shop_Customer_Id__c FROM Contact WHERE Shop_Customer_Id__c LIKE '${shopId}|${P}-C%'`))
      .map((c) => [indexOf(c.Shop_Customer_Id__c), c.Id]));
    results.push({ flow: 'campaign_segment', ...await measure(t, p, 'campaign_segment', {
      measures: [{ name: 'campaign_segment', direction: 'CampaignMember -> shop segment_members' }],
      async change(i) {
        await sf.sobject('CampaignMember').create({ CampaignId: campaigns[i % CAMPAIGNS], ContactId: contacts.get(i), Status: 'Sent' });
        return Date.now();
      },
      async arrivals() {
        return [completeWhenAll([await shopTimes(`SELECT customer_number AS k, ${epochMs('created_at')} AS at FROM segment_members WHERE shop_id = $1`, [shopId])])];
      },
    }, true) });

    // ---- stock, both ways: a sale in the shop -> Stock_Level__c; a restock in the org -> stock_levels ----
    progress(`setup: ${CHANGES} stock levels, created in the org from the shop`);
    await db.query('INSERT INTO stock_levels (shop_id, sku, warehouse_code, quantity) SELECT $1, s, $2, $3 FROM unnest($4::text[]) AS s',
      [shopId, WAREHOUSE, START_QTY, Array.from({ length: CHANGES }, (_, i) => sku(i))]);
    const levels = await pollUntil(async () => (await soql(sf, `SELECT Id FROM Stock_Level__c WHERE Stock_Key__c LIKE '${shopId}|${P}-P%' AND Quantity__c = ${START_QTY}`)).length,
      (n) => n >= CHANGES, LAND_TIMEOUT_MS, 1_000);
    if (!levels.ok) throw new Error(`only ${levels.value}/${CHANGES} stock levels reached the org`);
    const stockKey = (i: number) => externalIdOf(shopId, sku(i), WAREHOUSE);
    const lastPart = (key: string) => key.replace(new RegExp(`\\|${WAREHOUSE}$`), '');
    results.push({ flow: 'stock', ...await measure(t, p, 'stock shop -> org', {
      measures: [{ name: 'stock', direction: `shop sale -> Stock_Level__c (window ${STOCK_WINDOW_MS} ms)` }],
      async change(i) {
        await db.query('UPDATE stock_levels SET quantity = quantity - 1 WHERE shop_id = $1 AND sku = $2 AND warehouse_code = $3', [shopId, sku(i), WAREHOUSE]);
        return Date.now();
      },
      async arrivals() {
        return [completeWhenAll([(await soql<{ Stock_Key__c: string; LastModifiedDate: string }>(sf,
          `SELECT Stock_Key__c, LastModifiedDate FROM Stock_Level__c WHERE Stock_Key__c LIKE '${shopId}|${P}-P%' AND Quantity__c = ${START_QTY - 1}`))
          .map((r) => [lastPart(r.Stock_Key__c), ms(r.LastModifiedDate)])])];
      },
    }, false) });
    results.push({ flow: 'stock', ...await measure(t, p, 'stock org -> shop', {
      measures: [{ name: 'stock', direction: `org restock -> shop stock_levels (window ${STOCK_WINDOW_MS} ms)` }],
      async change(i) {
        t.sb.admin.userEdit({ object: 'Stock_Level__c', externalId: { field: 'Stock_Key__c', value: stockKey(i) }, increment: { Quantity__c: 5 } });
        return Date.now();
      },
      async arrivals() {
        return [completeWhenAll([await shopTimes(`SELECT s.sku AS k, ${epochMs('a.applied_at')} AS at FROM stock_levels s
          ${appliedJoin('stock_levels', "s.shop_id || '|' || s.sku || '|' || s.warehouse_code")}
          WHERE s.shop_id = $1 AND s.quantity = $2`, [shopId, START_QTY + 4])])];
      },
    }, false) });

    report(cfg, loadBefore, results);
    if (results.some((r) => !r.landed)) process.exitCode = 1;
  } catch (err) {
    if (results.length > 0) report(cfg, loadBefore, results);
    throw err;
  } finally {
    await close();
  }
}

function report(config: ShopforceConfig, loadBefore: number[], results: Array<FlowResult & { flow: string }>): void {
  const f = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '-');
  const lines = [
    'pipeline-flows: every flow in turn, commit on one side -> write on the other (all stages in one process, emulator in process, all eight entities on)',
    machineLine(loadBefore),
    `${CHANGES} changes per flow and direction, paced at ${RATE}/s, one change per commit, each on its own record; source mode ${config.salesforce.source.mode}`,
    `sink lingerMs=${config.sink.lingerMs} batchSize=${config.sink.batchSize} bulkThreshold=${config.sink.bulkThreshold}; partitions=${config.kafka.partitions}`,
    `stock windowMs=${config.entities.stock.windowMs}: a stock change waits for its key's window, so the window bounds its latency from below; campaign_segment gatherMs=${config.entities.campaign_segment.gatherMs}: a segment's member changes are decided once that long after the first`,
    'commit = COMMIT (shop) or the API call / agent edit (org) returned; write = emulator CreatedDate/LastModifiedDate (ms), or the shop sink transaction\'s now() (new row created_at, else shopforce_applied_writes.applied_at)',
    'API calls = the emulator\'s /services/data calls from the first change until all landed + 3 s, less the bench\'s own writes and SOQL polls (Pub/Sub streaming, OAuth not counted)',
    '',
  ];
  const header = ['flow', 'direction', 'changes', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'API calls', 'calls/change'];
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const r of results) {
    r.measures.forEach((m, k) => {
      const lat: LatencySummary = latencySummary(r.commits.flatMap((c, i) => (m.arrivals.has(i) ? [m.arrivals.get(i)! - c] : [])));
      rows.push([m.name, m.direction, `${lat.n}/${CHANGES}`, f(lat.p50), f(lat.p95), f(lat.p99), f(lat.max),
        k === 0 ? String(r.apiCalls) : '(same)', k === 0 ? f(r.apiCalls / CHANGES, 2) : '']);
    });
    notes.push(`${r.measures[0]!.name.trim()} (${r.measures[0]!.direction}): calls by API ${JSON.stringify(r.byApi)}; org writes in the phase (the bench's own included): ${r.writes}`,
      `  router read ${r.shopRecordsRead} shop CDC records meanwhile (other sessions' rows on the shared shop topics included); mean source commit -> outputs committed by processor (ms) ${JSON.stringify(r.stageMeanMs)}`);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  lines.push(fmt(header), ...rows.map(fmt), '', ...notes);
  console.log(lines.join('\n'));
}

await main();
