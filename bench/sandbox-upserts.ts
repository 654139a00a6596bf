/**
 * Record upserts/s through sObject Collections (200 records a call) against the sandbox org,
 * with the real jsforce client, plus p50/p99 latency per call. Target: >= 5,000 records/s.
 * Run: node --import tsx bench/sandbox-upserts.ts [calls=100] [concurrency=4]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jsforce from 'jsforce';
import jwt from 'jsonwebtoken';
import { startSandbox } from '../src/sandbox/server.ts';

const CALLS = Number(process.argv[2] ?? 100);
const CONCURRENCY = Number(process.argv[3] ?? 4);
const BATCH = 200;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const dir = mkdtempSync(join(tmpdir(), 'sbx-bench-'));
const sb = await startSandbox({ dataDir: dir, logLevel: 'warn' });
try {
  const key = readFileSync(sb.credentials.jwtPrivateKeyPath, 'utf8');
  const assertion = jwt.sign({ iss: sb.credentials.clientId, sub: sb.credentials.username, aud: sb.loginUrl, exp: Math.floor(Date.now() / 1000) + 300 }, key, { algorithm: 'RS256' });
  const conn = new jsforce.Connection({ oauth2: { loginUrl: sb.loginUrl, clientId: sb.credentials.clientId }, version: '60.0' });
  await conn.authorize({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion });

  const rows = (call: number) => Array.from({ length: BATCH }, (_, i) => {
    // half the calls create new keys, half update keys written before
    const k = call % 2 === 0 ? call * BATCH + i : (call - 1) * BATCH + i;
    return { Stock_Key__c: `SKU-${k % 5000}|W${k % 7}`, Sku__c: `SKU-${k % 5000}`, Warehouse__c: `W${k % 7}`, Quantity__c: (call * 7 + i) % 1000 };
  });

  // warm-up
  await conn.sobject('Stock_Level__c').upsert(rows(-2), 'Stock_Key__c');

  const latencies: number[] = [];
  let next = 0;
  let failures = 0;
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < CALLS) {
      const call = next++;
      const t0 = process.hrtime.bigint();
      const res = await conn.sobject('Stock_Level__c').upsert(rows(call), 'Stock_Key__c');
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      failures += res.filter((r) => !r.success).length;
    }
  }));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  const records = CALLS * BATCH;
  const counters = sb.admin.counters();
  console.log(JSON.stringify({
    benchmark: 'sandbox-upserts (sObject Collections, jsforce, same process)',
    calls: CALLS, recordsPerCall: BATCH, concurrency: CONCURRENCY, records, failures,
    seconds: Number(seconds.toFixed(2)),
    recordsPerSecond: Math.round(records / seconds),
    callMs: { p50: Number(percentile(latencies, 50).toFixed(1)), p99: Number(percentile(latencies, 99).toFixed(1)), max: Number(latencies.at(-1)!.toFixed(1)) },
    target: '>= 5000 records/s',
    meetsTarget: records / seconds >= 5000,
    cdcEventsPublished: counters.cdc?.['events.published'],
  }, null, 2));
} finally {
  await sb.stop();
  rmSync(dir, { recursive: true, force: true });
}
