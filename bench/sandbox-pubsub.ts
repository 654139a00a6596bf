/**
 * CDC delivery to one Pub/Sub subscriber (salesforce-pubsub-api-client, infinite subscription
 * = batches of 100). Phase 1: as fast as the emulator can commit and deliver (events/s).
 * Phase 2: paced at a fixed rate, delivery latency from publish() to the client's callback.
 *   node --import tsx bench/sandbox-pubsub.ts [--events 50000] [--rate 5000] [--seconds 5]
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { generate } from 'selfsigned';
import PubSubApiClient from 'salesforce-pubsub-api-client';
import type { AuthSession } from '../src/sandbox/auth/session.ts';
import type { CommittedTransaction, RecordChange } from '../src/sandbox/cdc/change-event.ts';
import { createCdcHub } from '../src/sandbox/cdc/index.ts';
import { loadOrgModel } from '../src/sandbox/model/load.ts';
import { createLogger } from '../src/observability/logger.ts';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '50000' },
    rate: { type: 'string', default: '5000' },
    seconds: { type: 'string', default: '5' },
    batch: { type: 'string', default: '200' },
  },
});
const TOTAL = Number(args.events);
const RATE = Number(args.rate);
const SECONDS = Number(args.seconds);
const BATCH = Number(args.batch);

const ORG_ID = '00D5g000000BenchAAA'.slice(0, 18);
const TOKEN = `${ORG_ID}!bench`;
const session: AuthSession = { orgId: ORG_ID, userId: '0055g000000BenchAA', username: 'bench@example', accessToken: TOKEN, expiresAt: Date.now() + 3600_000 };
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

let commitNumber = 0;
let seq = 0;
function txOf(n: number): { tx: CommittedTransaction; ids: string[] } {
  const now = new Date().toISOString();
  const changes: RecordChange[] = [];
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    seq += 1;
    const id = `0015g${String(seq).padStart(10, '0')}AAA`;
    ids.push(id);
    changes.push({
      entityName: 'Account', recordIds: [id], changeType: 'UPDATE', diffFields: [], nulledFields: [],
      fields: { Name: `Account ${seq}`, BillingCity: 'Lyon', LastModifiedDate: now },
      changedFields: ['Name', 'BillingCity', 'LastModifiedDate'],
    });
  }
  commitNumber += 1;
  return {
    tx: { transactionKey: crypto.randomUUID(), commitTimestamp: Date.now(), commitNumber, commitUser: session.userId, changeOrigin: 'com/salesforce/api/rest/60.0;client=bench', changes },
    ids,
  };
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const tick = () => new Promise((r) => setImmediate(r));

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shopforce-bench-pubsub-'));
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], { keySize: 2048, algorithm: 'sha256' });
  const hub = createCdcHub({
    model: loadOrgModel(), dataDir, checkToken: (t) => (t === TOKEN ? session : undefined),
    tls: { key: pems.private, cert: pems.cert }, logger: createLogger('bench', 'warn'),
  });
  const { port } = await hub.pubsub.start();
  const client = new PubSubApiClient({
    authType: 'user-supplied', accessToken: TOKEN, instanceUrl: 'https://127.0.0.1', organizationId: ORG_ID,
    pubSubEndpoint: `127.0.0.1:${port}`, rejectUnauthorizedSsl: false,
  } as any, quiet as any);
  await client.connect();

  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  let received = 0;
  let recordLatency = false;
  client.subscribe('/data/AccountChangeEvent', (_info, type, data) => {
    if (type !== 'event') return;
    received += 1;
    if (recordLatency) {
      const id = data.payload.ChangeEventHeader.recordIds[0];
      const t = sentAt.get(id);
      if (t !== undefined) { latencies.push(performance.now() - t); sentAt.delete(id); }
    }
  });
  await new Promise((r) => setTimeout(r, 300));

  // Phase 1: throughput.
  const start = performance.now();
  for (let sent = 0; sent < TOTAL; sent += BATCH) {
    hub.publish(txOf(Math.min(BATCH, TOTAL - sent)).tx);
    await tick();
  }
  const publishedMs = performance.now() - start;
  while (received < TOTAL) await new Promise((r) => setTimeout(r, 5));
  const totalMs = performance.now() - start;
  console.log(`throughput: ${TOTAL} CDC events (${BATCH}/transaction) published in ${publishedMs.toFixed(0)} ms, delivered in ${totalMs.toFixed(0)} ms → ${(TOTAL / (totalMs / 1000)).toFixed(0)} events/s to one subscriber`);

  // Phase 2: latency at a fixed rate, in 10 ms slices.
  recordLatency = true;
  received = 0;
  const perSlice = Math.max(1, Math.round(RATE / 100));
  const slices = SECONDS * 100;
  const t0 = performance.now();
  for (let s = 0; s < slices; s++) {
    const { tx, ids } = txOf(perSlice);
    const now = performance.now();
    for (const id of ids) sentAt.set(id, now);
    hub.publish(tx);
    const next = t0 + (s + 1) * 10;
    const wait = next - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    else await tick();
  }
  const expected = slices * perSlice;
  const deadline = performance.now() + 30_000;
  while (received < expected && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  latencies.sort((a, b) => a - b);
  console.log(`latency at ${perSlice * 100} events/s for ${SECONDS} s (${latencies.length}/${expected} delivered): p50 ${pct(latencies, 50).toFixed(1)} ms, p99 ${pct(latencies, 99).toFixed(1)} ms, max ${latencies[latencies.length - 1].toFixed(1)} ms`);
  console.log('hub counters:', JSON.stringify(hub.counters()));

  client.close();
  await hub.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
