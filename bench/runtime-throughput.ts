/**
 * The processor runtime on the local stack's Kafka: a transactional processor keeping a running
 * count per key in its changelog-backed state, one output per input.
 * Phase 1: a preloaded backlog drained as fast as possible (records/s, per commit size).
 * Phase 2: paced input; end-to-end latency from the source time header (set when the input is
 *          produced) to the moment a read_committed consumer sees the output (p50/p95/p99).
 *   node --import tsx bench/runtime-throughput.ts [--records 20000] [--rate 500] [--seconds 10] [--partitions 6]
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { Registry } from 'prom-client';
import { createProcessor } from '../src/kafka/processor.ts';
import { SOURCE_TIME_HEADER, type Processor } from '../src/kafka/types.ts';
import { createLogger } from '../src/observability/logger.ts';
import { createStackContext } from '../src/stack/context.ts';
import { stackStatus } from '../src/stack/stack.ts';
import { reportFigure } from './lib/figures.ts';

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '20000' },
    rate: { type: 'string', default: '500' },
    seconds: { type: 'string', default: '10' },
    partitions: { type: 'string', default: '6' },
    'commit-size': { type: 'string', default: '500' },
  },
});
const RECORDS = Number(args.records);
const RATE = Number(args.rate);
const SECONDS = Number(args.seconds);
const PARTITIONS = Number(args.partitions);
const COMMIT_SIZE = Number(args['commit-size']);

const status = await stackStatus(createStackContext({ quiet: true }));
if (!status.healthy) throw new Error('the local stack is not running: start it with `shopforce stack up`');
const kafka = new Kafka({ brokers: status.addresses.kafka.brokers, clientId: 'bench-runtime', logLevel: logLevel.NOTHING });
const admin: Admin = kafka.admin();
await admin.connect();
const run = randomUUID().slice(0, 8);
const input = `bench-rt-in-${run}`;
const output = `bench-rt-out-${run}`;
const groupId = `bench-rt-${run}`;
await admin.createTopics({ waitForLeaders: true, topics: [input, output].map((topic) => ({ topic, numPartitions: PARTITIONS, replicationFactor: 1 })) });

const producer = kafka.producer();
await producer.connect();
const keys = Array.from({ length: 1000 }, (_, i) => `shop-1|sku-${i}`);
const payload = JSON.stringify({ sku: 'x', warehouse: 'w1', quantity: 12, note: 'x'.repeat(200) });
async function produce(n: number, offset: number): Promise<void> {
  const messages = Array.from({ length: n }, (_, i) => ({
    key: keys[(offset + i) % keys.length], value: payload, headers: { [SOURCE_TIME_HEADER]: String(Date.now()) },
  }));
  await producer.send({ topic: input, messages });
}

const registry = new Registry();
function newProcessor(): Processor {
  return createProcessor<Buffer | null, number>({
    name: 'bench', kafka, groupId, topics: [input], transactional: true, state: {},
    dlqTopic: `${groupId}.dlq`, maxRecordsPerCommit: COMMIT_SIZE, metrics: registry,
    partitionsConsumedConcurrently: PARTITIONS,
    logger: createLogger('bench', 'warn'),
    async handle(ctx) {
      const key = ctx.key!.toString();
      const count = (ctx.state.get(key) ?? 0) + 1;
      ctx.state.set(key, count);
      return [{ topic: output, key, value: JSON.stringify({ key, count }) }];
    },
  });
}

// a read_committed consumer of the outputs, recording latency per output
const latencies: number[] = [];
let seen = 0;
const reader = kafka.consumer({ groupId: `${groupId}-reader`, maxWaitTimeInMs: 50 });
await reader.connect();
await reader.subscribe({ topic: output, fromBeginning: true });
await reader.run({
  partitionsConsumedConcurrently: PARTITIONS,
  eachBatch: async ({ batch }) => {
    const now = Date.now();
    for (const m of batch.messages) {
      seen++;
      const ts = Number(m.headers?.[SOURCE_TIME_HEADER]?.toString());
      if (Number.isFinite(ts)) latencies.push(now - ts);
    }
  },
});
async function waitSeen(n: number): Promise<void> {
  while (seen < n) await new Promise((r) => setTimeout(r, 20));
}
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

// phase 1: backlog
for (let sent = 0; sent < RECORDS; sent += 1000) await produce(Math.min(1000, RECORDS - sent), sent);
const processor = newProcessor();
const t0 = Date.now();
await processor.start();
while (!processor.ready()) await new Promise((r) => setTimeout(r, 20));
const tReady = Date.now();
await waitSeen(RECORDS);
const t1 = Date.now();
reportFigure({ name: 'runtime-throughput.records_per_s', value: Math.round(RECORDS / ((t1 - tReady) / 1000)), unit: 'records/s', conditions: `one processor, ${RECORDS} records, ${PARTITIONS} partitions, transactional with state and changelog, commit size ${COMMIT_SIZE}` });
console.log(`phase 1: ${RECORDS} records, ${PARTITIONS} partitions, commit size ${COMMIT_SIZE}: join+restore ${tReady - t0} ms, drained in ${t1 - tReady} ms = ${Math.round(RECORDS / ((t1 - tReady) / 1000))} records/s (transactional, state + changelog)`);

// phase 2: paced
latencies.length = 0;
registry.resetMetrics();
const perTick = Math.max(1, Math.round(RATE / 20));
const total = RATE * SECONDS;
let sent = 0;
const start = Date.now();
while (sent < total) {
  await produce(Math.min(perTick, total - sent), RECORDS + sent);
  sent += perTick;
  const due = start + (sent / RATE) * 1000;
  await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
}
await waitSeen(RECORDS + total);
reportFigure({ name: 'runtime-throughput.paced_latency_p99', value: pct(latencies, 99), unit: 'ms', conditions: `${total} records at ${RATE}/s, source time -> committed output seen` });
console.log(`phase 2: ${total} records at ${RATE}/s: end-to-end latency (source time -> committed output seen) p50 ${pct(latencies, 50)} ms, p95 ${pct(latencies, 95)} ms, p99 ${pct(latencies, 99)} ms, max ${Math.max(...latencies)} ms`);

const metricsByName = await registry.getMetricsAsJSON();
const summary = (name: string) => {
  const m = metricsByName.find((x) => x.name === name) as unknown as { values: { metricName?: string; value: number }[] } | undefined;
  const sum = m?.values.find((v) => v.metricName === `${name}_sum`)?.value ?? 0;
  const count = m?.values.find((v) => v.metricName === `${name}_count`)?.value ?? 0;
  return `${count} observed, mean ${count ? ((sum / count) * 1000).toFixed(1) : '-'} ms`;
};
console.log(`phase 2 commits (one transaction each): ${summary('shopforce_commit_seconds')}`);
console.log(`phase 2 processor-side latency (source time -> transaction committed): ${summary('shopforce_end_to_end_latency_seconds')}`);

await processor.stop();
await reader.disconnect();
await producer.disconnect();
await admin.deleteTopics({ topics: [input, output, `${groupId}.state-changelog`, `${groupId}.dlq`] }).catch(() => undefined);
await admin.deleteGroups([groupId, `${groupId}-reader`]).catch(() => undefined);
await admin.disconnect();
