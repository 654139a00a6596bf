/**
 * Salesforce source throughput: change events from the org emulator (in process) to Kafka (the
 * real local stack), full images included. Phase 1: a burst of user edits as fast as the emulator
 * commits them, events/s until Kafka acknowledged the last. Phase 2: edits paced at a fixed rate,
 * commit-to-Kafka-ack latency percentiles (commitTimestamp of the event → the producer's ack).
 *   node --import tsx bench/sf-source-throughput.ts [--mode pubsub|streaming] [--burst 3000] [--rate 200] [--seconds 5]
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { createLogger } from '../src/observability/logger.ts';
import type { SalesforceConfig } from '../src/salesforce/auth/connection.ts';
import { createSalesforceSource, type WrittenBatch } from '../src/salesforce/source/index.ts';
import { startSandbox } from '../src/sandbox/server.ts';
import { getTestStack } from '../test/support/stack.ts';

const { values: args } = parseArgs({
  options: {
    mode: { type: 'string', default: 'pubsub' },
    burst: { type: 'string', default: '3000' },
    rate: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '5' },
    products: { type: 'string', default: '100' },
  },
});
const MODE = args.mode === 'streaming' ? 'streaming' : 'pubsub';
const BURST = Number(args.burst);
const RATE = Number(args.rate);
const SECONDS = Number(args.seconds);
const PRODUCTS = Number(args.products);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const dir = mkdtempSync(join(tmpdir(), 'sf-source-bench-'));
const sb = await startSandbox({ dataDir: dir, logLevel: 'silent', pubSubKeepaliveMs: 1000, cometdLongPollSeconds: 5 });
const { kafka: { brokers } } = await getTestStack();
const kafka = new Kafka({ brokers, clientId: 'sf-source-bench', logLevel: logLevel.NOTHING });
const run = `bench${randomUUID().slice(0, 8)}`;
const sfConfig = {
  loginUrl: sb.loginUrl, authType: 'jwt', clientId: sb.credentials.clientId, username: sb.credentials.username,
  privateKeyPath: sb.credentials.jwtPrivateKeyPath, apiVersion: '60.0', callOptionsClient: 'bench', caCertPath: sb.caCertPath,
  source: { mode: MODE, pubsubEndpoint: sb.pubSubEndpoint, keepaliveTimeoutMs: 60_000 },
} as SalesforceConfig;

let written = 0;
let lastAck = 0;
let latencies: number[] | undefined;
const source = createSalesforceSource({
  sfConfig, objects: ['Product2'], kafka, topicPrefix: `${run}.sf.cdc`, imageTopic: `${run}.sf.image`,
  checkpointTopic: `${run}.sf.checkpoints`, logger: createLogger('bench', 'warn'), partitions: 3,
  onWritten: (b: WrittenBatch) => {
    written += b.commitTimestamps.length;
    lastAck = b.ackedAt;
    if (latencies) for (const t of b.commitTimestamps) latencies.push(b.ackedAt - t);
  },
});

async function until(cond: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (${written} events written)`);
    await sleep(20);
  }
}

try {
  await source.start();
  await until(() => source.status().channels[0].state === 'live', 'the subscription');
  const ids: string[] = [];
  for (let i = 0; i < PRODUCTS; i++) {
    ids.push(sb.admin.userEdit({ object: 'Product2', externalId: { field: 'Sku__c', value: `BENCH-${i}` }, fields: { Name: `Bench ${i}`, Family: 'Bench' } }).id);
  }
  await until(() => written >= PRODUCTS, 'the creates');

  // phase 1: burst
  const base = written;
  const t0 = Date.now();
  for (let i = 0; i < BURST; i++) {
    sb.admin.userEdit({ object: 'Product2', id: ids[i % ids.length], fields: { Description: `burst ${i}` } });
    if (i % 100 === 99) await sleep(0);
  }
  const committedIn = Date.now() - t0;
  await until(() => written >= base + BURST, 'the burst');
  const burstMs = lastAck - t0;
  console.log(`mode ${MODE}: burst of ${BURST} updates committed in ${committedIn} ms, on Kafka after ${burstMs} ms: ${Math.round(BURST / (burstMs / 1000))} events/s`);

  // phase 2: paced
  latencies = [];
  const paced = RATE * SECONDS;
  const base2 = written;
  const start = Date.now();
  for (let i = 0; i < paced; i++) {
    const due = start + (i * 1000) / RATE;
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait);
    sb.admin.userEdit({ object: 'Product2', id: ids[i % ids.length], fields: { Description: `paced ${i}` } });
  }
  await until(() => written >= base2 + paced, 'the paced changes');
  const sorted = [...latencies].sort((a, b) => a - b);
  console.log(`mode ${MODE}: ${paced} updates at ${RATE}/s, commit-to-Kafka-ack latency p50 ${percentile(sorted, 50)} ms, p90 ${percentile(sorted, 90)} ms, p99 ${percentile(sorted, 99)} ms, max ${sorted.at(-1)} ms`);
  const restCalls = source.status().channels[0].restCalls;
  console.log(`REST calls for images: ${restCalls} (every update merged into a known image)`);
} finally {
  await source.stop();
  await sb.stop();
  rmSync(dir, { recursive: true, force: true });
}
