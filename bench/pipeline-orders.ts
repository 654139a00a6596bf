/**
 * The whole pipeline under an order burst: the real stack (PostgreSQL, Debezium, Kafka, registry), the
 * Salesforce emulator in this process, and `shopforce run`'s stages in this process (router, reconciler,
 * Salesforce sink, ...). A burst of orders (a new customer and 1–3 lines each) is committed in the shop as
 * fast as PostgreSQL takes it, then a paced run (one order per transaction at a fixed rate) measures the
 * latency under light load. Reports records per Salesforce API call, latency from shop commit to emulator
 * write (p50/p95/p99/max), end-to-end throughput and the time to drain.
 *
 * Commit time: taken in this process right after COMMIT returns (every order of a transaction shares it).
 * Write time: the emulator's CreatedDate of the Opportunity (same process, same clock; whole seconds, as
 * Salesforce keeps them, so a latency is up to 1 s short); "order complete" is the latest CreatedDate of the
 * Opportunity and its line items.
 *
 * Run: node --import tsx bench/pipeline-orders.ts [orders=10000] [pacedRate=20] [pacedSeconds=30]
 * Env: BENCH_LINGER_MS, BENCH_BATCH_SIZE, BENCH_BULK_THRESHOLD (sink settings; default: the example config);
 * Exits 1 when a phase does not fully land in the emulator.
 * The router's fresh consumer group is started at the end of the shared shop CDC topics; rows other
 * sessions write to the shop during the run are synced too and counted apart ("others").
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Connection } from 'jsforce';
import pg from 'pg';
import type { ShopforceConfig } from '../src/config/schema.ts';
import { restParentLookup } from '../src/processors/router.ts';
import { skipShopHistory } from '../test/support/pipeline.ts';
import { readExternalId } from '../src/entities/keys.ts';
import { startPipeline, type Pipeline } from '../src/run/pipeline.ts';
import { DEFAULT_SHOP_ID } from '../src/shop/tables.ts';
import { lazyConnection, salesforceStages } from '../src/run/salesforce-stages.ts';
import type { CounterSnapshot } from '../src/sandbox/admin/counters.ts';
import { jwtConnection, startTestSandbox, type TestSandbox } from '../test/sandbox/sandbox-helpers.ts';
import { testPipelineConfig } from '../test/support/pipeline.ts';
import { getTestStack } from '../test/support/stack.ts';
import { reportFigure } from './lib/figures.ts';
import { histogramDelta, metricDelta, scrape } from './lib/metrics.ts';

const ORDERS = Number(process.argv[2] ?? 10_000);
const PACED_RATE = Number(process.argv[3] ?? 20);
const PACED_SECONDS = Number(process.argv[4] ?? 30);
const PRODUCTS = 50;
const ORDERS_PER_TX = 250;
const BURST_DRAIN_TIMEOUT_MS = 240_000;
const PACED_DRAIN_TIMEOUT_MS = 90_000;
const SETTLE_TIMEOUT_MS = 30_000;
/** stop waiting for a phase when nothing more lands for this long (the rest went to the DLQ) */
const STALL_MS = 45_000;
const WRITE_APIS = ['collections', 'composite', 'rest', 'bulk'] as const;

const run = randomUUID().slice(0, 6).toUpperCase();
/** The rows take the table's default shop, which the example config syncs; the org's external ids start with it (keys.ts). */
const SHOP = DEFAULT_SHOP_ID;
const progress = (msg: string) => process.stderr.write(`[pipeline-orders ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

// ---------- small helpers ----------

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function summary(values: number[]) {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99), max: s.at(-1) ?? NaN };
}

async function waitFor<T>(what: string, probe: () => Promise<T>, done: (v: T) => boolean, timeoutMs: number, everyMs = 500): Promise<{ value: T; ok: boolean }> {
  const deadline = Date.now() + timeoutMs;
  let value = await probe();
  let lastLog = Date.now();
  let lastChange = Date.now();
  while (!done(value)) {
    if (Date.now() > deadline || Date.now() - lastChange > STALL_MS) {
      progress(`gave up waiting for ${what} after ${((Date.now() - deadline + timeoutMs) / 1000).toFixed(0)} s${Date.now() - lastChange > STALL_MS ? `, no progress for ${STALL_MS / 1000} s` : ''} (last: ${JSON.stringify(value)})`);
      return { value, ok: false };
    }
    if (Date.now() - lastLog > 10_000) {
      progress(`waiting for ${what}: ${JSON.stringify(value)}`);
      lastLog = Date.now();
    }
    await sleep(everyMs);
    const next = await probe();
    if (JSON.stringify(next) !== JSON.stringify(value)) lastChange = Date.now();
    value = next;
  }
  return { value, ok: true };
}

// ---------- the shop's orders ----------

interface Product { sku: string; name: string; cents: number }
interface OrderBatch {
  customers: { number: string[]; email: string[]; first: string[]; last: string[] };
  orders: { number: string[]; customer: string[]; total: string[] };
  lines: { order: string[]; line: number[]; sku: string[]; name: string[]; qty: number[]; price: string[]; total: string[] };
}

const money = (cents: number) => (cents / 100).toFixed(2);

/** Orders from..to-1 of this run, each with its own new customer and 1–3 lines (deterministic). */
function makeOrders(prefix: string, from: number, to: number, products: Product[]): OrderBatch {
  const b: OrderBatch = {
    customers: { number: [], email: [], first: [], last: [] },
    orders: { number: [], customer: [], total: [] },
    lines: { order: [], line: [], sku: [], name: [], qty: [], price: [], total: [] },
  };
  for (let i = from; i < to; i++) {
    const customer = `${prefix}-C${i}`;
    const order = `${prefix}-O${i}`;
    b.customers.number.push(customer);
    b.customers.email.push(`${prefix.toLowerCase()}.c${i}@example.com`);
    b.customers.first.push('Bench');
    b.customers.last.push(`Customer ${i}`);
    let total = 0;
    const lineCount = 1 + ((i * 7) % 3);
    for (let n = 1; n <= lineCount; n++) {
      const p = products[(i * 13 + n * 5) % products.length]!;
      const qty = 1 + ((i + n) % 3);
      total += p.cents * qty;
      b.lines.order.push(order);
      b.lines.line.push(n);
      b.lines.sku.push(p.sku);
      b.lines.name.push(p.name);
      b.lines.qty.push(qty);
      b.lines.price.push(money(p.cents));
      b.lines.total.push(money(p.cents * qty));
    }
    b.orders.number.push(order);
    b.orders.customer.push(customer);
    b.orders.total.push(money(total));
  }
  return b;
}

/** One transaction of multi-row inserts (unnest); resolves to the time COMMIT returned. */
async function insertOrders(db: pg.Client, b: OrderBatch): Promise<number> {
  await db.query('BEGIN');
  try {
    await db.query(
      `INSERT INTO customers (customer_number, email, first_name, last_name) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])`,
      [b.customers.number, b.customers.email, b.customers.first, b.customers.last]);
    await db.query(
      `INSERT INTO orders (order_number, customer_number, status, currency, subtotal_amount, total_amount)
       SELECT n, c, 'pending', 'EUR', t::numeric, t::numeric FROM unnest($1::text[], $2::text[], $3::text[]) AS u(n, c, t)`,
      [b.orders.number, b.orders.customer, b.orders.total]);
    await db.query(
      `INSERT INTO order_lines (order_number, line_number, sku, product_name, quantity, unit_price, line_total)
       SELECT o, l, s, n, q, p::numeric, t::numeric FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::int[], $6::text[], $7::text[]) AS u(o, l, s, n, q, p, t)`,
      [b.lines.order, b.lines.line, b.lines.sku, b.lines.name, b.lines.qty, b.lines.price, b.lines.total]);
    await db.query('COMMIT');
    return Date.now();
  } catch (err) {
    await db.query('ROLLBACK').catch(() => {});
    throw new Error(`inserting orders ${b.orders.number[0]}..${b.orders.number.at(-1)} failed: ${(err as Error).message}`, { cause: err });
  }
}

// ---------- the emulator's side ----------

async function countOf(sf: Connection, soql: string): Promise<number> {
  return (await sf.query(soql)).totalSize;
}

interface Landed { opportunities: number; lineItems: number }

async function landed(sf: Connection, prefix: string): Promise<Landed> {
  return {
    opportunities: await countOf(sf, `SELECT COUNT() FROM Opportunity WHERE Shop_Order_Id__c LIKE '${SHOP}|${prefix}-%'`),
    lineItems: await countOf(sf, `SELECT COUNT() FROM OpportunityLineItem WHERE Shop_Line_Id__c LIKE '${SHOP}|${prefix}-%'`),
  };
}

/** Records of this phase (LIKE) or of everything else in the emulator (NOT), by object. */
async function landedAll(sf: Connection, prefix: string, which: 'LIKE' | 'NOT'): Promise<Record<string, number>> {
  const where = (field: string) => (which === 'LIKE' ? `${field} LIKE '${SHOP}|${prefix}-%'` : `(NOT ${field} LIKE '${SHOP}|${prefix}-%')`);
  return {
    Account: await countOf(sf, `SELECT COUNT() FROM Account WHERE ${where('Shop_Customer_Id__c')}`),
    Contact: await countOf(sf, `SELECT COUNT() FROM Contact WHERE ${where('Shop_Customer_Id__c')}`),
    Opportunity: await countOf(sf, `SELECT COUNT() FROM Opportunity WHERE ${where('Shop_Order_Id__c')}`),
    OpportunityLineItem: await countOf(sf, `SELECT COUNT() FROM OpportunityLineItem WHERE ${where('Shop_Line_Id__c')}`),
  };
}

/** Write time of each order of a phase: its Opportunity's CreatedDate and the latest of it and its lines. */
async function writeTimes(sf: Connection, prefix: string): Promise<Map<string, { opp: number; complete: number; amount: number | null }>> {
  const opps = (await sf.query<{ Id: string; Shop_Order_Id__c: string; CreatedDate: string; Amount: number | null }>(
    `SELECT Id, Shop_Order_Id__c, CreatedDate, Amount FROM Opportunity WHERE Shop_Order_Id__c LIKE '${SHOP}|${prefix}-%'`).run({ autoFetch: true, maxFetch: 1_000_000 })).records;
  const items = (await sf.query<{ OpportunityId: string; CreatedDate: string }>(
    `SELECT OpportunityId, CreatedDate FROM OpportunityLineItem WHERE Shop_Line_Id__c LIKE '${SHOP}|${prefix}-%'`).run({ autoFetch: true, maxFetch: 1_000_000 })).records;
  const byId = new Map<string, { order: string; opp: number; complete: number; amount: number | null }>();
  for (const o of opps) {
    const t = Date.parse(o.CreatedDate);
    byId.set(o.Id, { order: readExternalId(o.Shop_Order_Id__c)!.parts[0]!, opp: t, complete: t, amount: o.Amount });
  }
  for (const li of items) {
    const o = byId.get(li.OpportunityId);
    if (o) o.complete = Math.max(o.complete, Date.parse(li.CreatedDate));
  }
  return new Map([...byId.values()].map((o) => [o.order, { opp: o.opp, complete: o.complete, amount: o.amount }]));
}

// ---------- one phase: insert, drain, measure ----------

/** Records read, transactions committed and seconds spent committing, per processor (router, reconciler). */
function commitsByProcessor(delta: (metric: string, label?: string) => Record<string, number>): PhaseResult['commits'] {
  const records = delta('shopforce_records_consumed_total', 'processor');
  const transactions = delta('shopforce_commit_seconds_count', 'processor');
  const seconds = delta('shopforce_commit_seconds_sum', 'processor');
  return Object.fromEntries(Object.keys(transactions).map((p) => [p, { records: records[p] ?? 0, transactions: transactions[p] ?? 0, seconds: seconds[p] ?? 0 }]));
}

interface PhaseResult {
  name: string;
  orders: number;
  lines: number;
  transactions: number;
  insertSeconds: number;
  drained: boolean;
  landed: Landed;
  /** first commit -> last emulator write of the phase */
  drainSeconds: number;
  /** last commit -> last emulator write */
  tailSeconds: number;
  ordersPerSecond: number;
  oppLatencyMs: ReturnType<typeof summary>;
  completeLatencyMs: ReturnType<typeof summary>;
  emulator: CounterSnapshot;
  /** emulator counters when the last record landed (before the writes that followed it) */
  atDrain: CounterSnapshot;
  settleSeconds: number;
  /** distinct records of this phase in the emulator, and of anything else (other sessions' shop rows, earlier phases) */
  own: Record<string, number>;
  /** Opportunities of this phase whose Amount is not the order's total (null included) */
  wrongAmount: number;
  foreign: Record<string, number>;
  /** shop commit -> outputs committed, per processor (router, reconciler), from the pipeline's histogram */
  stageLatency: ReturnType<typeof histogramDelta>;
  /** CPU seconds this process (every stage and the emulator) used from the first insert until the emulator was quiet */
  cpuSeconds: number;
  /** per processor: records read, transactions committed and the time spent committing them (summed over partitions) */
  commits: Record<string, { records: number; transactions: number; seconds: number }>;
  /** the sinks' write results on sync.audit: records, sends and the time the sinks waited for them */
  audit: { records: number; sends: number; seconds: number };
  writeCalls: Record<string, number>;
  recordsWritten: Record<string, number>;
  sink: {
    apiCalls: Record<string, number>;
    callsByObjectOp: Record<string, number>;
    callsSaved: Record<string, number>;
    outcomes: Record<string, number>;
    recordsPerCall: Record<string, number>;
    retries: Record<string, number>;
    dlq: Record<string, number>;
  };
}

async function phase(
  name: string, t: TestSandbox, sf: Connection, pipeline: Pipeline, prefix: string,
  insert: () => Promise<{ commits: Map<string, number>; totals: Map<string, string>; lines: number; transactions: number; seconds: number }>, drainTimeoutMs: number,
): Promise<PhaseResult> {
  t.sb.admin.resetCounters();
  const before = await scrape(pipeline);
  const cpuBefore = process.cpuUsage();
  progress(`${name}: inserting`);
  const ins = await insert();
  const orders = ins.commits.size;
  progress(`${name}: ${orders} orders, ${ins.lines} lines committed in ${ins.seconds.toFixed(1)} s; waiting for the emulator`);
  const wait = await waitFor(`${name} in the emulator`, () => landed(sf, prefix),
    (l) => l.opportunities >= orders && l.lineItems >= ins.lines, drainTimeoutMs);
  const atDrain = t.sb.admin.counters();
  // writes that follow the last record (re-assertions, echoes): wait until the emulator is quiet for 3 s
  const written = () => Object.values(t.sb.admin.counters().recordsByObject).reduce((a, b) => a + b, 0);
  const settleStarted = Date.now();
  let last = written();
  let quietSince = Date.now();
  while (Date.now() - quietSince < 3_000 && Date.now() - settleStarted < SETTLE_TIMEOUT_MS) {
    await sleep(250);
    const now = written();
    if (now !== last) { last = now; quietSince = Date.now(); }
  }
  // read before our own read of the records (the COUNT() polls only touch the query API)
  const emulator = t.sb.admin.counters();
  const cpu = process.cpuUsage(cpuBefore);
  const settleSeconds = (Date.now() - settleStarted) / 1000;
  const after = await scrape(pipeline);
  const times = await writeTimes(sf, prefix);
  // records of other sessions' shop writes that this pipeline also synced (the shop CDC topics are shared)
  const own = await landedAll(sf, prefix, 'LIKE');
  const foreign = await landedAll(sf, prefix, 'NOT');

  const opp: number[] = [];
  const complete: number[] = [];
  let lastWrite = 0;
  let wrongAmount = 0;
  for (const [order, commitAt] of ins.commits) {
    const w = times.get(order);
    if (!w) continue;
    if (w.amount === null || Math.abs(w.amount - Number(ins.totals.get(order))) > 0.001) wrongAmount++;
    opp.push(w.opp - commitAt);
    complete.push(w.complete - commitAt);
    lastWrite = Math.max(lastWrite, w.complete);
  }
  const firstCommit = Math.min(...ins.commits.values());
  const lastCommit = Math.max(...ins.commits.values());
  const writeCalls = Object.fromEntries(WRITE_APIS.map((a) => [a, emulator.byApi[a] ?? 0]));
  const delta = (metric: string, label?: string) => metricDelta(before, after, metric, label);
  const rpcSum = delta('shopforce_sf_sink_records_per_call_sum', 'api');
  const rpcCount = delta('shopforce_sf_sink_records_per_call_count', 'api');
  const byObjectOp: Record<string, number> = {};
  for (const [series, value] of after) {
    if (!series.startsWith('shopforce_sf_sink_api_calls_total{')) continue;
    const labels = Object.fromEntries([...series.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    const d = value - (before.get(series) ?? 0);
    if (d) byObjectOp[`${labels.api} ${labels.sobject} ${labels.operation}`] = d;
  }
  return {
    name, orders, lines: ins.lines, transactions: ins.transactions, insertSeconds: ins.seconds,
    drained: wait.ok, landed: wait.value,
    drainSeconds: (lastWrite - firstCommit) / 1000,
    tailSeconds: (lastWrite - lastCommit) / 1000,
    ordersPerSecond: opp.length / ((lastWrite - firstCommit) / 1000),
    oppLatencyMs: summary(opp), completeLatencyMs: summary(complete),
    emulator, atDrain, settleSeconds, own, foreign, wrongAmount,
    stageLatency: histogramDelta(before, after, 'shopforce_end_to_end_latency_seconds', 'processor', [50, 99]),
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    commits: commitsByProcessor(delta),
    audit: {
      records: delta('shopforce_audit_records_total').total ?? 0,
      sends: delta('shopforce_audit_send_seconds_count').total ?? 0,
      seconds: delta('shopforce_audit_send_seconds_sum').total ?? 0,
    },
    writeCalls, recordsWritten: emulator.recordsByObject,
    sink: {
      apiCalls: delta('shopforce_sf_sink_api_calls_total', 'api'),
      callsByObjectOp: byObjectOp,
      callsSaved: delta('shopforce_sf_sink_api_calls_saved_total', 'reason'),
      outcomes: delta('shopforce_sf_sink_outcomes_total', 'status'),
      recordsPerCall: Object.fromEntries(Object.keys(rpcCount).map((api) => [api, Number(((rpcSum[api] ?? 0) / rpcCount[api]!).toFixed(1))])),
      retries: delta('shopforce_sf_sink_retries_total', 'error_code'),
      dlq: delta('shopforce_dlq_records_total', 'reason'),
    },
  };
}

// ---------- setup ----------

async function main(): Promise<void> {
  const loadBefore = os.loadavg();
  const stack = await getTestStack();
  const t = await startTestSandbox({ dailyApiLimit: 1_000_000 });
  let pipeline: Pipeline | undefined;
  const db = new pg.Client({ connectionString: stack.postgres.url });
  try {
    const sf = await jwtConnection(t.sb);
    await db.connect();

    // the catalogue, mastered in Salesforce: products with a standard price
    const products: Product[] = Array.from({ length: PRODUCTS }, (_, i) => ({ sku: `B${run}-P${i}`, name: `Bench item ${i}`, cents: 500 + ((i * 137) % 9500) }));
    const pricebookId = (await sf.query<{ Id: string }>('SELECT Id FROM Pricebook2 WHERE IsStandard = true')).records[0]!.Id;
    const created = (await sf.sobject('Product2').create(products.map((p) => ({ Name: p.name, Sku__c: p.sku, ProductCode: p.sku, IsActive: true })))) as { id: string; success: boolean }[];
    await sf.sobject('PricebookEntry').create(created.map((c, i) => ({ Product2Id: c.id, Pricebook2Id: pricebookId, UnitPrice: products[i]!.cents / 100, IsActive: true })));

    const config = testPipelineConfig(stack, {
      SF_LOGIN_URL: t.sb.loginUrl, SF_CLIENT_ID: t.sb.credentials.clientId, SF_USERNAME: t.sb.credentials.username,
      SF_PRIVATE_KEY_PATH: t.sb.credentials.jwtPrivateKeyPath, SF_PUBSUB_ENDPOINT: t.sb.pubSubEndpoint, SF_CA_CERT_PATH: t.sb.caCertPath,
    }, (c) => {
      c.salesforce.apiVersion = '60.0';
      if (process.env.BENCH_LINGER_MS) c.sink.lingerMs = Number(process.env.BENCH_LINGER_MS);
      if (process.env.BENCH_BATCH_SIZE) c.sink.batchSize = Number(process.env.BENCH_BATCH_SIZE);
      if (process.env.BENCH_BULK_THRESHOLD) c.sink.bulkThreshold = Number(process.env.BENCH_BULK_THRESHOLD);
    });
    await skipShopHistory(config);
    const conn = lazyConnection(config);
    const setupStarted = Date.now();
    pipeline = await startPipeline(config, { lookupParent: restParentLookup(conn), stages: (shared) => salesforceStages(shared, conn) });
    const p = pipeline;
    await waitFor('every stage ready', async () => p.stages.filter((s) => !s.ready()).map((s) => s.name), (notReady) => notReady.length === 0, 90_000);
    // warm-up and a check that the flows run: the catalogue reaches the shop
    const catalogue = await waitFor('the catalogue in the shop', async () => Number((await db.query('SELECT count(*) FROM products WHERE sku LIKE $1', [`B${run}-P%`])).rows[0].count),
      (n) => n >= PRODUCTS, 90_000);
    progress(`pipeline up and catalogue synced (${catalogue.value}/${PRODUCTS}) in ${((Date.now() - setupStarted) / 1000).toFixed(1)} s`);

    // ---- burst ----
    const burstPrefix = `B${run}`;
    const burst = await phase('burst', t, sf, p, burstPrefix, async () => {
      const commits = new Map<string, number>();
      const totals = new Map<string, string>();
      let lines = 0;
      let transactions = 0;
      const started = Date.now();
      for (let from = 0; from < ORDERS; from += ORDERS_PER_TX) {
        const b = makeOrders(burstPrefix, from, Math.min(ORDERS, from + ORDERS_PER_TX), products);
        const at = await insertOrders(db, b);
        b.orders.number.forEach((o, i) => { commits.set(o, at); totals.set(o, b.orders.total[i]!); });
        lines += b.lines.order.length;
        transactions++;
      }
      return { commits, totals, lines, transactions, seconds: (Date.now() - started) / 1000 };
    }, BURST_DRAIN_TIMEOUT_MS);

    // ---- paced ----
    const pacedPrefix = `P${run}`;
    const pacedCount = Math.round(PACED_RATE * PACED_SECONDS);
    const paced = await phase('paced', t, sf, p, pacedPrefix, async () => {
      const commits = new Map<string, number>();
      const totals = new Map<string, string>();
      let lines = 0;
      const started = Date.now();
      for (let i = 0; i < pacedCount; i++) {
        const due = started + (i * 1000) / PACED_RATE;
        if (due > Date.now()) await sleep(due - Date.now());
        const b = makeOrders(pacedPrefix, i, i + 1, products);
        commits.set(b.orders.number[0]!, await insertOrders(db, b));
        totals.set(b.orders.number[0]!, b.orders.total[0]!);
        lines += b.lines.order.length;
      }
      return { commits, totals, lines, transactions: pacedCount, seconds: (Date.now() - started) / 1000 };
    }, PACED_DRAIN_TIMEOUT_MS);

    report(config, loadBefore, [burst, paced]);
    if (!burst.drained || !paced.drained) process.exitCode = 1;
  } finally {
    await pipeline?.stop().catch((err) => progress(`pipeline stop failed: ${(err as Error).message}`));
    await db.end().catch(() => {});
    await t.cleanup();
  }
}

// ---------- output ----------

function report(config: ShopforceConfig, loadBefore: number[], phases: PhaseResult[]): void {
  const cpus = os.cpus();
  const f = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '-');
  const lines: string[] = [];
  lines.push('pipeline-orders: shop commit -> Debezium -> router -> reconciler -> sf-sink -> emulator (all stages in one process)');
  lines.push(`machine: ${cpus.length} cores (${cpus[0]?.model ?? 'cpu'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}; load avg before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} (machine shared with other work)`);
  lines.push(`sink: lingerMs=${config.sink.lingerMs} batchSize=${config.sink.batchSize} bulkThreshold=${config.sink.bulkThreshold}; partitions=${config.kafka.partitions}; ${PRODUCTS} products; burst ${ORDERS_PER_TX} orders per shop transaction, paced 1 order per transaction at ${PACED_RATE}/s`);
  lines.push('latency: commit = time COMMIT returned to the inserting client; write = emulator CreatedDate (ms); "complete" = Opportunity and all its line items written');
  lines.push('');
  const header = ['phase', 'orders', 'lines', 'drained', 'insert s', 'drain s', 'tail s', 'orders/s', 'opp p50', 'p95', 'p99', 'max', 'complete p50', 'p95', 'p99', 'max'];
  const rows = phases.map((r) => [
    r.name, String(r.orders), String(r.lines), r.drained ? 'yes' : `NO (${r.landed.opportunities} opp, ${r.landed.lineItems} items)`,
    f(r.insertSeconds, 1), f(r.drainSeconds, 1), f(r.tailSeconds, 1), f(r.ordersPerSecond, 0),
    f(r.oppLatencyMs.p50), f(r.oppLatencyMs.p95), f(r.oppLatencyMs.p99), f(r.oppLatencyMs.max),
    f(r.completeLatencyMs.p50), f(r.completeLatencyMs.p95), f(r.completeLatencyMs.p99), f(r.completeLatencyMs.max),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => c.padStart(widths[i]!)).join('  ');
  lines.push('latencies in ms (shop commit -> emulator write)');
  lines.push(fmt(header), ...rows.map(fmt));
  lines.push('');
  for (const r of phases) {
    const calls = Object.values(r.writeCalls).reduce((a, b) => a + b, 0);
    const records = Object.values(r.recordsWritten).reduce((a, b) => a + b, 0);
    const saved = Object.values(r.sink.callsSaved).reduce((a, b) => a + b, 0);
    const needed = 3 * r.orders + r.lines; // Account + Contact + Opportunity per order, one item per line
    lines.push(`${r.name}: ${records} records written in ${calls} write calls = ${f(records / calls, 1)} records per call;`
      + ` ${needed} distinct records needed (${f(needed / calls, 1)} per call, ${f(records / needed, 2)} writes per record)`
      + ` (emulator write calls by API ${JSON.stringify(r.writeCalls)}; records by object ${JSON.stringify(r.recordsWritten)};`
      + ` query calls ${r.emulator.byApi.query ?? 0} incl. the bench's COUNT() polls)`);
    lines.push(`  correctness: ${r.landed.opportunities}/${r.orders} Opportunities and ${r.landed.lineItems}/${r.lines} line items landed; ${r.wrongAmount} Opportunities with an Amount other than the order total`);
    lines.push(`  distinct records in the emulator: this phase ${JSON.stringify(r.own)}; others (earlier phase, catalogue, other sessions' shop rows synced too) ${JSON.stringify(r.foreign)}`);
    lines.push(`  sink metrics: calls by API ${JSON.stringify(r.sink.apiCalls)}, mean records per write call ${JSON.stringify(r.sink.recordsPerCall)},`
      + ` calls saved ${saved} ${JSON.stringify(r.sink.callsSaved)}, outcomes ${JSON.stringify(r.sink.outcomes)}, retries ${JSON.stringify(r.sink.retries)}, dlq ${JSON.stringify(r.sink.dlq)}`);
    lines.push(`  sink calls by api/object/operation ${JSON.stringify(r.sink.callsByObjectOp)}`);
    const drainCalls = WRITE_APIS.reduce((a, api) => a + (r.atDrain.byApi[api] ?? 0), 0);
    const drainRecords = Object.values(r.atDrain.recordsByObject).reduce((a, b) => a + b, 0);
    lines.push(`  when the last record landed: ${drainRecords} records in ${drainCalls} write calls (${f(drainRecords / drainCalls, 1)} per call) ${JSON.stringify(r.atDrain.recordsByObject)};`
      + ` then ${f(r.settleSeconds, 1)} s until the emulator was quiet for 3 s`);
    const stages = Object.entries(r.stageLatency).map(([proc, h]) => `${proc}: n=${h.n} mean ${f(h.mean * 1000)} ms, p50 <= ${h.le.p50} s, p99 <= ${h.le.p99} s`);
    lines.push(`  shop commit -> stage outputs committed (pipeline histogram, bucket bounds): ${stages.join('; ') || '-'}`);
    const commits = Object.entries(r.commits).map(([proc, c]) => `${proc}: ${c.records} records in ${c.transactions} commits (${f(c.records / c.transactions, 1)} per commit), ${f(c.seconds, 1)} s committing (${f((c.seconds / c.transactions) * 1000)} ms each)`);
    lines.push(`  CPU of this process (all stages and the emulator): ${f(r.cpuSeconds, 1)} s = ${f((r.cpuSeconds * 1000) / r.orders, 1)} ms per order`);
    lines.push(`  commits (pipeline metrics, summed over partitions): ${commits.join('; ') || '-'}`);
    const a = r.audit;
    lines.push(`  write results on sync.audit: ${a.records} records in ${a.sends} sends; the sinks waited ${f(a.seconds, 2)} s in all for them (${a.sends ? f((a.seconds / a.sends) * 1000, 1) : '-'} ms per send)`);
  }
  console.log(lines.join('\n'));
  reportFigures(config, loadBefore, phases);
}

/** The headline figures for bench/results.json; the goals apply at the sizes and rates the project names. */
function reportFigures(config: ShopforceConfig, loadBefore: number[], phases: PhaseResult[]): void {
  const where = `the whole stack on this machine, load avg before ${loadBefore[0]!.toFixed(1)}; linger ${config.sink.lingerMs} ms, batch ${config.sink.batchSize}, ${config.kafka.partitions} partitions`;
  for (const r of phases) {
    const calls = WRITE_APIS.reduce((a, api) => a + (r.atDrain.byApi[api] ?? 0), 0);
    const records = Object.values(r.atDrain.recordsByObject).reduce((a, b) => a + b, 0);
    const size = r.name === 'burst' ? `${r.orders} orders (1-3 lines) in transactions of ${ORDERS_PER_TX}` : `${r.orders} orders paced at ${PACED_RATE}/s`;
    const sustained = r.name === 'paced' && PACED_RATE >= 200 && PACED_SECONDS >= 60;
    const figure = (what: string, value: number, unit: string, goal: string | undefined) =>
      reportFigure({ name: `pipeline-orders.${r.name}.${what}`, value, unit, ...(goal ? { goal } : {}), conditions: `${size}; ${where}` });
    if (r.name === 'burst') figure('orders_per_s', r.ordersPerSecond, 'orders/s', r.orders >= 10_000 ? '>= 1000' : undefined);
    // 1,000 orders/s on this machine's 2 cores leaves at most 2 ms of CPU per order for all stages and the emulator
    if (r.name === 'burst') figure('cpu_ms_per_order', (r.cpuSeconds * 1000) / r.orders, 'ms', r.orders >= 10_000 ? '<= 2' : undefined);
    figure('commit_to_org_p50', r.oppLatencyMs.p50, 'ms', sustained ? '<= 1000' : undefined);
    figure('commit_to_org_p99', r.oppLatencyMs.p99, 'ms', sustained ? '<= 3000' : undefined);
    figure('records_per_call', records / calls, 'records/call', sustained ? '>= 180' : undefined);
  }
}

await main();
