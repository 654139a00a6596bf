/**
 * drift: how long `shopforce drift customer` takes on 100,000 customers per side, and what it reads.
 *
 * The shop gets 100,000 customers (with their two addresses), the org the same 100,000 Accounts and
 * Contacts through the backfill (Bulk API 2.0); then a tenth of a percent is broken behind the pipeline's
 * back on each side (Salesforce: e-mails edited; the shop: customers deleted, which the customer's delete
 * policy keeps in the org) and the check runs twice:
 * with the default sort buffer (every Salesforce record sorted in memory) and with a small one (sorted
 * runs spilled to disk and merged). Each run must find exactly what was broken. Each check runs in a
 * process of its own (bench/lib/drift-check.ts), so its peak RSS is the check's alone: the emulator
 * holding the org lives in this one.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { SchemaCatalogClient } from '../src/avro/registry.ts';
import { lineProgress, runBackfill } from '../src/backfill/index.ts';
import type { DriftReport } from '../src/drift/check.ts';
import { createLogger } from '../src/observability/logger.ts';
import { lazyConnection } from '../src/run/salesforce-stages.ts';
import { seedShop } from '../src/shop/seed/index.ts';
import { jwtConnection, startTestSandbox } from '../test/sandbox/sandbox-helpers.ts';
import { sandboxEnv } from '../test/support/pipeline-process.ts';
import { testPipelineConfig } from '../test/support/pipeline.ts';
import { getTestStack } from '../test/support/stack.ts';
import { machineLine } from './lib/pipeline-bench.ts';

// BENCH_DRIFT_CUSTOMERS: a smaller run to try the bench itself
const CUSTOMERS = Number(process.env.BENCH_DRIFT_CUSTOMERS ?? 100_000);
const BROKEN = 100; // per side

const loadBefore = os.loadavg();
const stack = await getTestStack();
const t = await startTestSandbox({ dailyApiLimit: 1_000_000 });
const shopId = `drb-${randomUUID().slice(0, 6)}`;
const pool = new pg.Pool({ connectionString: stack.postgres.url, max: 2 });
try {
  const sf = await jwtConnection(t.sb);
  sf.bulk2.pollTimeout = 600_000;
  const config = testPipelineConfig(stack, sandboxEnv(t), (c) => {
    c.shopId = shopId;
    c.salesforce.apiVersion = '60.0';
  });
  let at = Date.now();
  // the org masters the credit status: the shop's customers start without one
  await seedShop(stack.postgres.url, { shopId, customers: CUSTOMERS, products: 0, warehouses: 0, orders: 0, creditStatus: false }, undefined, ['customers', 'addresses']);
  console.log(`shop: ${CUSTOMERS} customers with their addresses seeded in ${((Date.now() - at) / 1000).toFixed(1)} s`);
  at = Date.now();
  const backfill = await runBackfill({
    config, pool, log: createLogger('bench-drift', 'warn'), registry: new SchemaCatalogClient(config.registry.url), conn: lazyConnection(config),
    kafka: new Kafka({ brokers: config.kafka.brokers, clientId: 'bench-drift', logLevel: logLevel.NOTHING }),
    progress: (label) => lineProgress(label, (line) => console.log(`  ${line}`), 30_000),
  }, { entity: 'customer', to: 'salesforce', since: null });
  console.log(`org: ${backfill.records} customers backfilled as Accounts and Contacts in ${((Date.now() - at) / 1000).toFixed(1)} s, ${backfill.apiCalls} API calls ${JSON.stringify(backfill.callsByOperation)}`);

  // broken behind the pipeline's back (it is not running): e-mails edited in the org, customers deleted in the shop
  const every = Math.floor(CUSTOMERS / BROKEN);
  const numbers = Array.from({ length: BROKEN }, (_, i) => `C-${String(i * every + 1).padStart(7, '0')}`);
  const contacts = (await sf.query<{ Id: string }>(`SELECT Id FROM Contact WHERE Shop_Customer_Id__c IN (${numbers.map((n) => `'${shopId}|${n}'`).join(', ')})`)).records;
  for (const c of contacts) t.sb.admin.userEdit({ object: 'Contact', id: c.Id, fields: { Email: `edited.${c.Id}@example.com` } });
  const deleted = Array.from({ length: BROKEN }, (_, i) => `C-${String(i * every + 2).padStart(7, '0')}`);
  await pool.query('DELETE FROM customers WHERE shop_id = $1 AND customer_number = ANY($2)', [shopId, deleted]);

  const runs: Array<{ name: string; buffer: number; report: DriftReport; ms: number; rssMb: number }> = [];
  const dir = mkdtempSync(join(os.tmpdir(), 'bench-drift-'));
  try {
    for (const [name, buffer] of [['in memory', CUSTOMERS * 2 + 1], ['spilled to disk', 20_000]] as const) {
      const input = join(dir, `${buffer}.json`);
      writeFileSync(input, JSON.stringify({ config, sortBufferRecords: buffer }));
      // asynchronously: the emulator in this process answers the check's calls meanwhile
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'bench/lib/drift-check.ts', input], { maxBuffer: 64 * 2 ** 20 });
      const out = JSON.parse(stdout.trim().split('\n').at(-1)!) as { report: DriftReport; ms: number; peakRssMb: number };
      runs.push({ name, buffer, report: out.report, ms: out.ms, rssMb: out.peakRssMb });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  console.log('');
  console.log(`drift customer on ${CUSTOMERS} customers per side (an Account + a Contact each in the org; a customer + 2 addresses each in the shop)`);
  console.log('sort buffer       records  wall s  salesforce read s  shop read+compare s  sf API calls  sorted runs  shop  salesforce  same   different  missing  extra  kept  peak rss MB');
  for (const r of runs) {
    const c = r.report.counts;
    console.log([
      `${r.name} (${r.buffer})`.padEnd(16), String(CUSTOMERS * 2).padStart(8), (r.ms / 1000).toFixed(1).padStart(7),
      r.report.read.salesforceSeconds.toFixed(1).padStart(18), r.report.read.shopAndCompareSeconds.toFixed(1).padStart(20),
      String(r.report.read.salesforceApiCalls).padStart(13), String(r.report.read.sortRuns).padStart(12), String(c.shop).padStart(5),
      String(c.salesforce).padStart(11), String(c.same).padStart(6), String(c.different).padStart(10), String(c.missing).padStart(8),
      String(c.extra).padStart(6), String(c.kept).padStart(5), String(r.rssMb).padStart(12),
    ].join(' '));
    // a customer deleted in the shop stays in the org (entities.customer.deletePolicy): kept, not drift
    if (c.different !== BROKEN || c.kept !== BROKEN || c.missing !== 0 || c.extra !== 0) {
      throw new Error(`${r.name}: expected ${BROKEN} different and ${BROKEN} kept, found ${JSON.stringify(c)}`);
    }
  }
  console.log(`found exactly what was broken: ${BROKEN} e-mails edited in the org (different), ${BROKEN} customers deleted in the shop (kept in the org by the delete policy)`);
  console.log(machineLine(loadBefore));
} finally {
  await pool.query('DELETE FROM customers WHERE shop_id = $1', [shopId]).catch(() => undefined);
  await pool.end();
  await t.cleanup();
}
