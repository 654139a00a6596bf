/**
 * Payments (shop -> org) and invoices (org -> shop) through the whole pipeline: the real stack
 * (PostgreSQL, Debezium, Kafka, registry), the Salesforce emulator in this process and `shopforce run`'s
 * stages in this process. A few hundred orders are synced first (their Opportunities exist, so no payment
 * waits for its parent); then, paced, one payment per shop transaction, then one Invoice__c per API call
 * made by a billing integration. Reports, per flow, the latency from the commit on one side to the
 * commit on the other (p50/p95/p99/max), and the API calls it took.
 *
 * Payment: commit = COMMIT returned to the inserting client; arrival = the Payment__c's CREATE change
 * event received by a CometD subscriber in this process (same clock); "status" = the Opportunity's
 * change event with Payment_Status__c = Paid.
 * Invoice: commit = the create call returned; arrival = the shop row's created_at (the shop sink's
 * transaction, same machine clock).
 *
 * Run: node --import tsx bench/pipeline-payments-invoices.ts [records=300] [rate=20]
 * Exits 1 when a flow does not fully land.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Connection } from 'jsforce';
import { StreamingExtension } from 'jsforce/api/streaming';
import { jwtConnection } from '../test/sandbox/sandbox-helpers.ts';
import { latencySummary, paced as pacedAt, pollUntil, type LatencySummary } from './lib/latency.ts';
import { machineLine, startBenchPipeline } from './lib/pipeline-bench.ts';

const RECORDS = Number(process.argv[2] ?? 300);
const RATE = Number(process.argv[3] ?? 20);
const LAND_TIMEOUT_MS = 180_000;
const run = randomUUID().slice(0, 6).toUpperCase();
const prefix = `BP${run}`;
const progress = (msg: string) => process.stderr.write(`[pipeline-payments-invoices ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

const totalOf = (i: number) => (20 + i / 100).toFixed(2);
const orderOf = (i: number) => `${prefix}-O${i}`;

/** Change events of one channel as they arrive, with the time each was received. */
function subscribe(conn: Connection, channel: string, onEvent: (payload: any, at: number) => void): () => void {
  const client = conn.streaming.createClient([new StreamingExtension.Replay(channel, -1)]);
  const sub = client.subscribe(channel, (m: any) => onEvent(m.payload, Date.now()));
  return () => {
    sub.cancel();
    (client as unknown as { disconnect(): void }).disconnect();
  };
}

/** One write per record at RATE per second; resolves to each record's commit time. */
const paced = (write: (i: number) => Promise<number>) => pacedAt(RECORDS, RATE, write);

interface FlowResult { name: string; direction: string; landed: number; latency: LatencySummary; thirds: number[]; extra: string }

/** p50 of each third of the run, in commit order: growing when the flow falls behind the rate. */
const byThird = (latencies: number[]) => [0, 1, 2].map((k) => latencySummary(latencies.slice(Math.floor((k * latencies.length) / 3), Math.floor(((k + 1) * latencies.length) / 3))).p50);

async function main(): Promise<void> {
  const loadBefore = os.loadavg();
  const shopId = `bpi-${run.toLowerCase()}`;
  const { t, db, sf, config, close } = await startBenchPipeline(shopId, (c) => {
    c.entities.product.enabled = false;
    c.entities.payment.enabled = true;
    c.entities.invoice.enabled = true;
  }, progress);
  const unsubscribe: Array<() => void> = [];
  try {

    // ---- the orders, synced first ----
    const numbers = Array.from({ length: RECORDS }, (_, i) => orderOf(i));
    await db.query('BEGIN');
    await db.query(`INSERT INTO customers (shop_id, customer_number, email, first_name, last_name)
      SELECT $1, n || '-C', lower(n) || '@example.com', 'Bench', 'Payer' FROM unnest($2::text[]) AS n`, [shopId, numbers]);
    await db.query(`INSERT INTO orders (shop_id, order_number, customer_number, status, subtotal_amount, total_amount)
      SELECT $1, n, n || '-C', 'pending', t::numeric, t::numeric FROM unnest($2::text[], $3::text[]) AS u(n, t)`, [shopId, numbers, numbers.map((_, i) => totalOf(i))]);
    await db.query('COMMIT');
    const opps = await pollUntil(async () => (await sf.query<{ Id: string; Shop_Order_Id__c: string }>(`SELECT Id, Shop_Order_Id__c FROM Opportunity WHERE Shop_Order_Id__c LIKE '${shopId}|${prefix}-%'`)
      .run({ autoFetch: true, maxFetch: 100_000 })).records, (r) => r.length >= RECORDS, LAND_TIMEOUT_MS, 1_000);
    if (!opps.ok) throw new Error(`only ${opps.value.length}/${RECORDS} Opportunities landed`);
    // the external id is "<shop>|<order number>"
    const orderNumberOf = (o: { Shop_Order_Id__c: string }) => o.Shop_Order_Id__c.split('|')[1]!;
    const oppOfOrder = new Map(opps.value.map((o) => [orderNumberOf(o), o.Id]));
    const orderOfOpp = new Map(opps.value.map((o) => [o.Id, orderNumberOf(o)]));
    progress(`${RECORDS} orders in the org`);

    // ---- payments: shop -> org ----
    const paymentAt = new Map<string, number>();
    const paidAt = new Map<string, number>();
    unsubscribe.push(subscribe(sf, '/data/Payment__ChangeEvent', (p, at) => {
      if (p.ChangeEventHeader.changeType === 'CREATE' && typeof p.Provider_Transaction_Id__c === 'string') paymentAt.set(p.Provider_Transaction_Id__c, at);
    }));
    unsubscribe.push(subscribe(sf, '/data/OpportunityChangeEvent', (p, at) => {
      if (p.Payment_Status__c !== 'Paid') return;
      for (const id of p.ChangeEventHeader.recordIds as string[]) if (orderOfOpp.has(id) && !paidAt.has(id)) paidAt.set(id, at);
    }));
    await sleep(1_000); // the subscriptions are live
    t.sb.admin.resetCounters();
    progress(`payments: ${RECORDS} at ${RATE}/s`);
    const paymentCommits = await paced(async (i) => {
      await db.query(`INSERT INTO payments (shop_id, provider_transaction_id, provider, order_number, amount, status, processed_at)
        VALUES ($1, $2, 'stripe', $3, $4, 'captured', now())`, [shopId, `pi_${prefix}_${i}`, orderOf(i), totalOf(i)]);
      return Date.now();
    });
    const paymentsLanded = await pollUntil(async () => [paymentAt.size, paidAt.size], ([p, s]) => p >= RECORDS && s >= RECORDS, LAND_TIMEOUT_MS, 500);
    const paymentCounters = t.sb.admin.counters();
    const paymentLatency = paymentCommits.flatMap((c, i) => {
      const at = paymentAt.get(`${shopId}|stripe|pi_${prefix}_${i}`);
      return at === undefined ? [] : [at - c];
    });
    const statusLatency = paymentCommits.flatMap((c, i) => {
      const at = paidAt.get(oppOfOrder.get(orderOf(i))!);
      return at === undefined ? [] : [at - c];
    });

    // ---- invoices: org -> shop ----
    const billing = await jwtConnection(t.sb);
    t.sb.admin.resetCounters();
    progress(`invoices: ${RECORDS} at ${RATE}/s`);
    const invoiceCommits = await paced(async (i) => {
      await billing.sobject('Invoice__c').create({
        Invoice_Number__c: `${prefix}-INV-${i}`, Opportunity__c: oppOfOrder.get(orderOf(i)), Amount__c: Number(totalOf(i)), Tax_Amount__c: 0,
        Paid_Amount__c: Number(totalOf(i)), Currency__c: 'EUR', Status__c: 'Paid', Issued_Date__c: '2026-12-01',
      } as any);
      return Date.now();
    });
    const shopRows = () => db.query<{ invoice_number: string; created: string }>(
      `SELECT invoice_number, (extract(epoch FROM created_at) * 1000)::bigint AS created FROM invoices WHERE shop_id = $1`, [shopId]);
    const invoicesLanded = await pollUntil(async () => (await shopRows()).rows, (r) => r.length >= RECORDS, LAND_TIMEOUT_MS, 500);
    const invoiceCounters = t.sb.admin.counters();
    const createdAt = new Map(invoicesLanded.value.map((r) => [r.invoice_number, Number(r.created)]));
    const invoiceLatency = invoiceCommits.flatMap((c, i) => {
      const at = createdAt.get(`${prefix}-INV-${i}`);
      return at === undefined ? [] : [at - c];
    });

    const writes = (c: typeof paymentCounters, object: string) => c.writesByApi?.collections?.[object]?.calls ?? 0;
    const flows: FlowResult[] = [
      { name: 'payment', direction: 'shop -> Payment__c', landed: paymentLatency.length, latency: latencySummary(paymentLatency), thirds: byThird(paymentLatency),
        extra: `${writes(paymentCounters, 'Payment__c')} Payment__c write calls for ${paymentCounters.recordsByObject.Payment__c ?? 0} records` },
      { name: 'payment status', direction: 'shop -> Opportunity.Payment_Status__c', landed: statusLatency.length, latency: latencySummary(statusLatency), thirds: byThird(statusLatency),
        extra: `${writes(paymentCounters, 'Opportunity')} Opportunity write calls for ${paymentCounters.recordsByObject.Opportunity ?? 0} records` },
      { name: 'invoice', direction: 'Invoice__c -> shop', landed: invoiceLatency.length, latency: latencySummary(invoiceLatency), thirds: byThird(invoiceLatency),
        extra: `${(invoiceCounters.byApi.rest ?? 0) - RECORDS} REST calls besides the ${RECORDS} creates (the router's Opportunity lookups, one per Opportunity)` },
    ];
    report(loadBefore, flows, config.sink.lingerMs);
    if (!paymentsLanded.ok || !invoicesLanded.ok) process.exitCode = 1;
  } finally {
    for (const u of unsubscribe) u();
    await close();
  }
}

function report(loadBefore: number[], flows: FlowResult[], lingerMs: number): void {
  const f = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : '-');
  const lines = [
    'pipeline-payments-invoices: payments shop -> org, invoices org -> shop (all stages in one process, emulator in process)',
    machineLine(loadBefore),
    `${RECORDS} records per flow, paced at ${RATE}/s, one per commit; sink lingerMs=${lingerMs}`,
    'payment: shop COMMIT returned -> Payment__c CREATE event received; status: -> Opportunity event with Payment_Status__c = Paid; invoice: create call returned -> shop row created_at',
    '',
  ];
  const header = ['flow', 'direction', 'landed', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'p50 by third of the run'];
  const rows = flows.map((r) => [r.name, r.direction, `${r.landed}/${RECORDS}`, f(r.latency.p50), f(r.latency.p95), f(r.latency.p99), f(r.latency.max), r.thirds.map(f).join(' / ')]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  lines.push(fmt(header), ...rows.map(fmt), '');
  for (const r of flows) lines.push(`${r.name}: ${r.extra}`);
  console.log(lines.join('\n'));
}

await main();
