/**
 * shopforce side by side with two alternatives, in the same run, on the same shop traffic (issue 11):
 *  - shopforce: the real pipeline (shop -> Debezium -> router -> reconciler -> sf-sink), stages in this process;
 *  - naive: bench/lib/naive-sink.ts reads the same Debezium topics (its own consumer group) and writes each
 *    change with one REST upsert per record;
 *  - polling: bench/lib/polling-sync.ts reads the shop's customers and orders by `updated_at` every 10 s and
 *    upserts what changed (sObject Collections).
 * Each writes to its own emulator org in this process, so each org's counters are its API calls alone.
 *
 * Traffic (customers and orders of the default shop, one statement per commit unless said):
 *  - steady: `rate` changes/s for `seconds` s, in groups of four: a new customer, an order of it, the order
 *    paid, the customer's phone changed;
 *  - burst: `burst` new customers and an order each, in transactions of 100 customers + 100 orders, then
 *    all those orders paid (one transaction) and all those customers' phones changed (one transaction).
 * Each phase waits until all three orgs hold its final state (every record, the paid stage, the new phone).
 * A warm-up (one customer and order, not reported) goes through all three first.
 *
 * Latency: commit = the time the statement's COMMIT returned to this process; write = the emulator's
 * CreatedDate (new records; a new customer is written when both its Account and Contact are) or
 * LastModifiedDate (the paid order's Opportunity, the phone's Contact), same process and clock. The org keeps
 * whole seconds, as Salesforce does: every latency here is up to 1 s short (0.5 s on average), for all three
 * systems alike, which is how the naive sink's median can read below zero.
 * API calls: each org's /services/data calls (REST, collections, composite, query, Bulk) from the start
 * of a phase until it landed plus a 3 s settle, minus the bench's own SOQL polls. Pub/Sub, CometD and
 * OAuth are not counted. The emulator runs without a latency model (calls cost what this machine takes).
 *
 * Run: node --import tsx bench/side-by-side.ts [rate=20] [seconds=60] [burst=1000]  (npm run bench -- side-by-side)
 * Exits 1 when a phase does not land in one of the orgs.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Connection } from 'jsforce';
import pg from 'pg';
import type { CounterSnapshot } from '../src/sandbox/admin/counters.ts';
import { DEFAULT_SHOP_ID } from '../src/shop/tables.ts';
import { jwtConnection, startTestSandbox, type TestSandbox } from '../test/sandbox/sandbox-helpers.ts';
import { reportFigure } from './lib/figures.ts';
import { latencySummary, paced, type LatencySummary } from './lib/latency.ts';
import { histogramDelta, scrape } from './lib/metrics.ts';
import { startNaiveSink, type NaiveSink } from './lib/naive-sink.ts';
import { machineLine, startBenchPipeline, type BenchPipeline } from './lib/pipeline-bench.ts';
import { startPollingSync, type PollingSync } from './lib/polling-sync.ts';

const RATE = Number(process.argv[2] ?? 20);
const SECONDS = Number(process.argv[3] ?? 60);
const BURST = Number(process.argv[4] ?? 1_000);
const POLL_MS = 10_000;
const BURST_TX = 100;
const LAND_TIMEOUT_MS = 300_000;
const SETTLE_MS = 3_000;
/** stop waiting for a phase when no org got closer to it for this long (what is missing failed for good) */
const STALL_MS = 60_000;
const DATA_APIS = ['rest', 'composite', 'collections', 'query', 'bulk', 'soap'] as const;
const SHOP = DEFAULT_SHOP_ID;
const run = randomUUID().slice(0, 6).toUpperCase();
const progress = (msg: string) => process.stderr.write(`[side-by-side ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

type System = 'shopforce' | 'naive' | 'polling';
interface Org { system: System; t: TestSandbox; sf: Connection; ownQueries: number }

// ---------- the traffic ----------

type Kind = 'new customer' | 'new order' | 'order paid' | 'phone changed';
interface Change { kind: Kind; n: number; commit: number }
interface Phase { name: string; prefix: string; groups: number; changes: Change[]; seconds: number }

const customerOf = (prefix: string, n: number) => `${prefix}C${n}`;
const orderOf = (prefix: string, n: number) => `${prefix}O${n}`;
const phoneOf = (n: number) => `+49 30 ${String(n).padStart(6, '0')}`;
const amountOf = (n: number) => (10 + (n % 90)).toFixed(2);

/** One auto-committed statement; resolves to the time it returned. */
async function commit(db: pg.Client, sql: string, params: unknown[]): Promise<number> {
  await db.query(sql, params);
  return Date.now();
}

const INSERT_CUSTOMERS = `INSERT INTO customers (customer_number, email, first_name, last_name)
  SELECT c, lower(c) || '@example.com', 'Side', 'By Side ' || c FROM unnest($1::text[]) AS u(c)`;
const INSERT_ORDERS = `INSERT INTO orders (order_number, customer_number, status, currency, subtotal_amount, total_amount)
  SELECT o, c, 'pending', 'EUR', t::numeric, t::numeric FROM unnest($1::text[], $2::text[], $3::text[]) AS u(o, c, t)`;
const PAY_ORDERS = `UPDATE orders SET status = 'paid' WHERE shop_id = '${SHOP}' AND order_number = ANY($1::text[])`;
const CHANGE_PHONES = `UPDATE customers SET phone = u.p FROM unnest($1::text[], $2::text[]) AS u(c, p)
  WHERE shop_id = '${SHOP}' AND customer_number = u.c`;

/** `rate` changes a second, one per commit, in groups of four (new customer, its order, order paid, phone changed). */
async function steady(db: pg.Client, prefix: string): Promise<Phase> {
  const groups = Math.max(1, Math.round((RATE * SECONDS) / 4));
  const kinds: Kind[] = ['new customer', 'new order', 'order paid', 'phone changed'];
  const started = Date.now();
  const commits = await paced(groups * 4, RATE, (i) => {
    const n = Math.floor(i / 4);
    const c = customerOf(prefix, n);
    const o = orderOf(prefix, n);
    switch (i % 4) {
      case 0: return commit(db, INSERT_CUSTOMERS, [[c]]);
      case 1: return commit(db, INSERT_ORDERS, [[o], [c], [amountOf(n)]]);
      case 2: return commit(db, PAY_ORDERS, [[o]]);
      default: return commit(db, CHANGE_PHONES, [[c], [phoneOf(n)]]);
    }
  });
  return { name: 'steady', prefix, groups, seconds: (Date.now() - started) / 1000, changes: commits.map((t, i) => ({ kind: kinds[i % 4]!, n: Math.floor(i / 4), commit: t })) };
}

/** `count` customers and orders as fast as PostgreSQL takes them, then every order paid and every phone changed at once. */
async function burst(db: pg.Client, prefix: string, count: number, name = 'burst'): Promise<Phase> {
  const started = Date.now();
  const changes: Change[] = [];
  const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);
  for (let from = 0; from < count; from += BURST_TX) {
    const ns = range(from, Math.min(count, from + BURST_TX));
    await db.query('BEGIN');
    await db.query(INSERT_CUSTOMERS, [ns.map((n) => customerOf(prefix, n))]);
    await db.query(INSERT_ORDERS, [ns.map((n) => orderOf(prefix, n)), ns.map((n) => customerOf(prefix, n)), ns.map(amountOf)]);
    await db.query('COMMIT');
    const t = Date.now();
    for (const n of ns) changes.push({ kind: 'new customer', n, commit: t }, { kind: 'new order', n, commit: t });
  }
  const all = range(0, count);
  const paid = await commit(db, PAY_ORDERS, [all.map((n) => orderOf(prefix, n))]);
  const phones = await commit(db, CHANGE_PHONES, [all.map((n) => customerOf(prefix, n)), all.map(phoneOf)]);
  for (const n of all) changes.push({ kind: 'order paid', n, commit: paid }, { kind: 'phone changed', n, commit: phones });
  return { name, prefix, groups: count, seconds: (Date.now() - started) / 1000, changes };
}

// ---------- what an org holds ----------

interface Written { created: number; modified: number }
interface OrgState {
  accounts: Map<number, Written>;
  contacts: Map<number, Written & { phone: string | null }>;
  opportunities: Map<number, Written & { stage: string }>;
}

/** A SOQL query of the bench in one org (each page counted as the bench's own call, not the system's). */
async function soql<T extends Record<string, unknown>>(org: Org, q: string): Promise<T[]> {
  const records = (await org.sf.query<T>(q).run({ autoFetch: true, maxFetch: 1_000_000 })).records;
  org.ownQueries += Math.max(1, Math.ceil(records.length / 2_000));
  return records;
}

async function orgState(org: Org, prefix: string): Promise<OrgState> {
  type Row = { CreatedDate: string; LastModifiedDate: string } & Record<string, unknown>;
  const byN = <V>(rows: Row[], field: string, extra: (r: Row) => V) => new Map(rows.map((r) => [
    Number(/(\d+)$/.exec(String(r[field]))![1]), { created: Date.parse(r.CreatedDate), modified: Date.parse(r.LastModifiedDate), ...extra(r) },
  ]));
  const like = (field: string) => `${field} LIKE '${SHOP}|${prefix}%'`;
  return {
    accounts: byN(await soql<Row>(org, `SELECT Shop_Customer_Id__c, CreatedDate, LastModifiedDate FROM Account WHERE ${like('Shop_Customer_Id__c')}`), 'Shop_Customer_Id__c', () => ({})),
    contacts: byN(await soql<Row>(org, `SELECT Shop_Customer_Id__c, Phone, CreatedDate, LastModifiedDate FROM Contact WHERE ${like('Shop_Customer_Id__c')}`),
      'Shop_Customer_Id__c', (r) => ({ phone: (r.Phone as string | null) ?? null })),
    opportunities: byN(await soql<Row>(org, `SELECT Shop_Order_Id__c, StageName, CreatedDate, LastModifiedDate FROM Opportunity WHERE ${like('Shop_Order_Id__c')}`),
      'Shop_Order_Id__c', (r) => ({ stage: String(r.StageName) })),
  };
}

/** Records of the phase still missing or not yet at their final value. */
function missing(s: OrgState, phase: Phase, paidStage: string): number {
  let out = 0;
  for (let n = 0; n < phase.groups; n++) {
    if (!s.accounts.has(n)) out++;
    if (s.contacts.get(n)?.phone !== phoneOf(n)) out++;
    if (s.opportunities.get(n)?.stage !== paidStage) out++;
  }
  return out;
}

/** Shop commit -> org write of each change of the phase. */
function latencies(s: OrgState, phase: Phase): number[] {
  return phase.changes.map(({ kind, n, commit: at }) => {
    switch (kind) {
      case 'new customer': return Math.max(s.accounts.get(n)!.created, s.contacts.get(n)!.created) - at;
      case 'new order': return s.opportunities.get(n)!.created - at;
      case 'order paid': return s.opportunities.get(n)!.modified - at;
      default: return s.contacts.get(n)!.modified - at;
    }
  });
}

interface Outcome {
  landed: boolean;
  /** last commit of the phase -> the org held all of it (ms, by the bench's polls) */
  tailMs: number;
  latency: LatencySummary;
  /** the same latencies by kind of change, and over the first and second half of the phase's changes */
  latencyBy: Record<string, LatencySummary>;
  calls: Record<string, number>;
  totalCalls: number;
  missing: number;
}

function dataCalls(before: CounterSnapshot, after: CounterSnapshot, ownQueries: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const api of DATA_APIS) {
    const n = (after.byApi[api] ?? 0) - (before.byApi[api] ?? 0) - (api === 'query' ? ownQueries : 0);
    if (n !== 0) out[api] = n;
  }
  return out;
}

/** Runs the phase's traffic, waits until every org holds it, settles, and reads each org's result. */
/**
 * A phase's outcome in each org, and where shopforce's time went: shop commit -> outputs committed per
 * processor and commit -> write applied per flow (the pipeline's histograms, bucket bounds).
 */
interface PhaseRun { phase: Phase; outcomes: Map<System, Outcome>; stages: string }

async function runPhase(orgs: Org[], pipeline: BenchPipeline['pipeline'], traffic: () => Promise<Phase>, paidStage: string): Promise<PhaseRun> {
  const metricsBefore = await scrape(pipeline);
  const before = new Map(orgs.map((o) => [o.system, { counters: o.t.sb.admin.counters(), own: o.ownQueries }]));
  const phase = await traffic();
  const lastCommit = Math.max(...phase.changes.map((c) => c.commit));
  progress(`${phase.name}: ${phase.changes.length} changes committed in ${phase.seconds.toFixed(1)} s; waiting for the three orgs`);
  const states = new Map<System, { state: OrgState; at: number; missing: number }>();
  const deadline = Date.now() + LAND_TIMEOUT_MS;
  let lastLog = Date.now();
  let lastProgress = Date.now();
  while (Date.now() < deadline && Date.now() - lastProgress < STALL_MS) {
    for (const org of orgs) {
      const was = states.get(org.system)?.missing;
      if (was === 0) continue;
      const state = await orgState(org, phase.prefix);
      const now = missing(state, phase, paidStage);
      if (now !== was) lastProgress = Date.now();
      states.set(org.system, { state, at: Date.now(), missing: now });
    }
    if ([...states.values()].every((s) => s.missing === 0)) break;
    if (Date.now() - lastLog > 15_000) {
      progress(`${phase.name}: still missing ${JSON.stringify(Object.fromEntries([...states].map(([k, v]) => [k, v.missing])))}`);
      lastLog = Date.now();
    }
    await sleep(1_000);
  }
  await sleep(SETTLE_MS);
  const metricsAfter = await scrape(pipeline);
  const stages = [
    ...Object.entries(histogramDelta(metricsBefore, metricsAfter, 'shopforce_end_to_end_latency_seconds', 'processor', [50, 99])).map(([k, h]) => [`${k} output`, h] as const),
    ...Object.entries(histogramDelta(metricsBefore, metricsAfter, 'shopforce_flow_latency_seconds', 'entity', [50, 99])).map(([k, h]) => [`${k} written`, h] as const),
  ].map(([k, h]) => `${k}: n=${h.n} mean ${(h.mean * 1000).toFixed(0)} ms, p50 <= ${h.le.p50} s, p99 <= ${h.le.p99} s`).join('; ');
  const outcomes = new Map<System, Outcome>();
  for (const org of orgs) {
    const s = states.get(org.system)!;
    const b = before.get(org.system)!;
    const calls = dataCalls(b.counters, org.t.sb.admin.counters(), org.ownQueries - b.own);
    const ms = s.missing === 0 ? latencies(s.state, phase) : [];
    const half = Math.floor(ms.length / 2);
    const groups: Record<string, number[]> = { 'first half': ms.slice(0, half), 'second half': ms.slice(half) };
    phase.changes.forEach((c, i) => { if (ms.length) (groups[c.kind] ??= []).push(ms[i]!); });
    outcomes.set(org.system, {
      latencyBy: Object.fromEntries(Object.entries(groups).map(([k, v]) => [k, latencySummary(v)])),
      landed: s.missing === 0, missing: s.missing, tailMs: s.at - lastCommit, calls,
      totalCalls: Object.values(calls).reduce((a, x) => a + x, 0),
      latency: latencySummary(ms),
    });
  }
  return { phase, outcomes, stages };
}

// ---------- main ----------

async function main(): Promise<void> {
  const loadBefore = os.loadavg();
  const prefix = `X${run}`;
  progress(`starting the pipeline and three emulator orgs (run ${run})`);
  let bench: BenchPipeline | undefined;
  const extra: TestSandbox[] = [];
  let naive: NaiveSink | undefined;
  let polling: PollingSync | undefined;
  let pollerDb: pg.Client | undefined;
  try {
    bench = await startBenchPipeline(SHOP, () => {}, progress);
    const { config } = bench;
    const org = async (system: System): Promise<Org> => {
      const t = await startTestSandbox({ dailyApiLimit: 1_000_000 });
      extra.push(t);
      return { system, t, sf: await jwtConnection(t.sb), ownQueries: 0 };
    };
    const orgs: Org[] = [{ system: 'shopforce', t: bench.t, sf: bench.sf, ownQueries: 0 }, await org('naive'), await org('polling')];
    const mapping = { stageMap: config.entities.order.stageMap, defaultStage: config.entities.order.defaultStage };
    naive = await startNaiveSink({
      ...mapping, brokers: config.kafka.brokers, topicPrefix: config.kafka.shopTopicPrefix, schema: config.shop.schema, shopId: SHOP,
      groupId: `${config.kafka.groupIdPrefix}.bench-naive`, conn: orgs[1]!.sf,
    });
    // the poller's own connection: the traffic's transactions must not see its reads inside them
    pollerDb = new pg.Client({ connectionString: config.shop.databaseUrl });
    await pollerDb.connect();
    polling = await startPollingSync({ ...mapping, db: pollerDb, shopId: SHOP, conn: orgs[2]!.sf, intervalMs: POLL_MS });
    const paidStage = mapping.stageMap.paid ?? mapping.defaultStage;

    // one customer and order through all three first: every consumer has joined and every connection is warm
    const warmUp = await runPhase(orgs, bench.pipeline, () => burst(bench!.db, `${prefix}-W`, 1, 'warm-up'), paidStage);
    if (![...warmUp.outcomes.values()].every((o) => o.landed)) throw new Error('the warm-up change did not land in all three orgs');
    progress(`steady: ${RATE} changes/s for ${SECONDS} s`);
    const steadyRun = await runPhase(orgs, bench.pipeline, () => steady(bench!.db, `${prefix}-S`), paidStage);
    progress(`burst: ${BURST} customers and orders, then all paid, all phones changed`);
    const burstRun = await runPhase(orgs, bench.pipeline, () => burst(bench!.db, `${prefix}-B`, BURST), paidStage);
    report(loadBefore, [steadyRun, burstRun], { naive: naive.stats(), polling: polling.stats() });
    if (![steadyRun, burstRun].every((r) => [...r.outcomes.values()].every((o) => o.landed))) process.exitCode = 1;
  } finally {
    await naive?.stop().catch((err) => progress(`naive sink stop failed: ${(err as Error).message}`));
    await polling?.stop().catch((err) => progress(`poller stop failed: ${(err as Error).message}`));
    await pollerDb?.end().catch(() => {});
    for (const t of extra) await t.cleanup().catch(() => {});
    await bench?.close();
  }
}

// ---------- output ----------

const SYSTEMS: System[] = ['shopforce', 'naive', 'polling'];

function report(loadBefore: number[], runs: PhaseRun[], stats: { naive: ReturnType<NaiveSink['stats']>; polling: ReturnType<PollingSync['stats']> }): void {
  const f = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '-');
  const lines = [
    'side-by-side: the same shop traffic synced by shopforce, a naive sink (one REST upsert per record per Debezium event) and a poller (updated_at every 10 s, collections upserts), each into its own emulator org',
    machineLine(loadBefore),
    `traffic: steady ${runs[0]!.phase.changes.length} changes at ${RATE}/s, one per commit (new customer, its order, order paid, phone changed); burst ${BURST} customers + ${BURST} orders in transactions of ${BURST_TX}+${BURST_TX}, then all paid and all phones changed (one transaction each)`,
    'latency: shop commit -> the org holds the change (CreatedDate / LastModifiedDate: whole seconds, so up to 1 s short); API calls: the org\'s /services/data calls minus the bench\'s SOQL polls',
    '',
  ];
  const header = ['phase', 'system', 'landed', 'API calls', 'calls/change', 'p50 ms', 'p95', 'p99', 'max', 'tail s', 'calls by API'];
  const rows: string[][] = [];
  for (const { phase, outcomes } of runs) {
    for (const system of SYSTEMS) {
      const o = outcomes.get(system)!;
      rows.push([phase.name, system, o.landed ? 'yes' : `NO (${o.missing} missing)`, String(o.totalCalls), f(o.totalCalls / phase.changes.length, 2),
        f(o.latency.p50), f(o.latency.p95), f(o.latency.p99), f(o.latency.max), f(o.tailMs / 1000, 1), JSON.stringify(o.calls)]);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padStart(widths[i]!))).join('  ');
  lines.push(fmt(header), ...rows.map(fmt), '');
  lines.push('p50 / p99 ms by kind of change and by half of the phase:');
  for (const { phase, outcomes } of runs) {
    for (const system of SYSTEMS) {
      const by = Object.entries(outcomes.get(system)!.latencyBy).map(([k, l]) => `${k} ${f(l.p50)} / ${f(l.p99)}`);
      lines.push(`  ${phase.name} ${system}: ${by.join('; ')}`);
    }
  }
  lines.push('shopforce, shop commit -> stage done (pipeline histograms, bucket bounds):');
  for (const { phase, stages } of runs) lines.push(`  ${phase.name}: ${stages || '-'}`);
  lines.push('');
  lines.push(`naive sink: ${stats.naive.events} change events, ${stats.naive.calls} REST upserts by its own count, ${stats.naive.failed} failed for good (after retries)`);
  lines.push(`poller: ${stats.polling.polls} polls, ${stats.polling.rows} changed rows, ${stats.polling.calls} collections calls by its own count, ${stats.polling.failed} failures${stats.polling.lastError ? ` (last: ${stats.polling.lastError})` : ''} (the rows of a refused write or failed poll are not tried again until they change)`);
  console.log(lines.join('\n'));
  reportFigures(loadBefore, runs);
}

/** Ratios: API calls over the whole run (steady + burst); latency on the steady traffic (what polling is about). */
function reportFigures(loadBefore: number[], runs: PhaseRun[]): void {
  const [steadyRun] = runs;
  const callsOf = (s: System) => runs.reduce((a, r) => a + r.outcomes.get(s)!.totalCalls, 0);
  const lat = (s: System) => steadyRun!.outcomes.get(s)!.latency;
  const traffic = `steady ${steadyRun!.phase.changes.length} changes at ${RATE}/s, burst ${BURST} customers + orders + an update of each`;
  const where = `${traffic}; own emulator org each (no latency model), one process; load avg before ${loadBefore[0]!.toFixed(1)}`;
  const figure = (name: string, value: number, unit: string, what: string) => reportFigure({ name: `side-by-side.${name}`, value, unit, conditions: `${what}; ${where}` });
  figure('api_calls_ratio_naive', callsOf('naive') / callsOf('shopforce'), 'x', 'API calls naive / shopforce, whole run');
  for (const s of SYSTEMS) figure(`api_calls.${s}`, callsOf(s), 'calls', `${s}: data API calls, whole run`);
  figure('latency_p50_ratio_polling', lat('polling').p50 / lat('shopforce').p50, 'x', 'commit -> org p50 poller (10 s) / shopforce, steady');
  figure('latency_p99_ratio_polling', lat('polling').p99 / lat('shopforce').p99, 'x', 'commit -> org p99 poller (10 s) / shopforce, steady');
  for (const s of SYSTEMS) {
    figure(`latency_p50.${s}`, lat(s).p50, 'ms', `${s}: commit -> org p50, steady`);
    figure(`latency_p99.${s}`, lat(s).p99, 'ms', `${s}: commit -> org p99, steady`);
  }
}

await main();
