/**
 * The router + reconciler path alone, in one process, on the local stack's Kafka: N Debezium shop
 * changes (customers with their addresses, products, orders with their lines; bench/lib/debezium-events.ts)
 * are produced first to raw topics of a fresh prefix, then the router and the reconciler run as `run`
 * wires them (src/run/path.ts: transactional, state on changelogs, the own-transaction lookup against
 * the shop database, Avro outputs through the registry) and drain them.
 *
 * Measured from the router's first read to the reconciler's last commit (its group's offsets at the end
 * of sync.in.*): events/s, CPU ms per event (this process, all threads), peak RSS, GC time, and per stage
 * its span, transactions and mean commit time. `--profile <file>` writes a CPU profile of the drain
 * and prints where its time went.
 *   node --import tsx bench/router-reconciler.ts [--events 200000] [--partitions 6] [--profile /tmp/rr.cpuprofile]
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { logLevel, Partitioners, type Admin, type Message } from 'kafkajs';
import pg from 'pg';
import { registryClient } from '../src/avro/registry.ts';
import { createKafka } from '../src/kafka/client.ts';
import { createProcessor } from '../src/kafka/processor.ts';
import { changelogTopicFor, fetchTopicOffsetsSettled } from '../src/kafka/topics.ts';
import type { ProcessorOptions } from '../src/kafka/types.ts';
import { topicNames } from '../src/flows/topic-names.ts';
import { createLogger } from '../src/observability/logger.ts';
import { createMetricsRegistry, runtimeMetrics } from '../src/observability/metrics.ts';
import { pathProcessors } from '../src/run/path.ts';
import { pipelineTopics, preparePipelineTopics } from '../src/run/topics.ts';
import { OwnTransactions } from '../src/shop/sink/own-transactions.ts';
import { testPipelineConfig } from '../test/support/pipeline.ts';
import { getTestStack } from '../test/support/stack.ts';
import { CpuProfile, type ProfileSummary } from './lib/cpu-profile.ts';
import { planFor, shopEvents } from './lib/debezium-events.ts';
import { reportFigure } from './lib/figures.ts';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    partitions: { type: 'string', default: '6' },
    profile: { type: 'string' },
    'timeout-s': { type: 'string', default: '1200' },
    // processing.<stage>.recordsPerTransaction / partitionsInParallel; default: the configuration's defaults
    'router-records': { type: 'string' },
    'reconciler-records': { type: 'string' },
    parallel: { type: 'string' },
  },
});
const EVENTS = Number(args.events);
const PARTITIONS = Number(args.partitions);
const TIMEOUT_MS = Number(args['timeout-s']) * 1000;
if (!Number.isInteger(EVENTS) || EVENTS < 100) throw new Error('--events must be a whole number of at least 100');
if (!Number.isInteger(PARTITIONS) || PARTITIONS < 1) throw new Error('--partitions must be a whole number of at least 1');

const say = (msg: string) => console.log(msg);
const loadBefore = os.loadavg();
const stack = await getTestStack();
const run = randomUUID().slice(0, 8);
const config = testPipelineConfig(stack, { SF_LOGIN_URL: 'http://127.0.0.1:9', SF_CLIENT_ID: 'unused', SF_USERNAME: 'unused', SF_PRIVATE_KEY_PATH: '/unused' }, (c) => {
  c.kafka.topicNamespace = `bench-rr-${run}`;
  c.kafka.groupIdPrefix = `bench-rr-${run}`;
  c.kafka.shopTopicPrefix = `bench-rr-${run}.shop`;
  c.kafka.partitions = PARTITIONS;
  c.entities.customer.enabled = true;
  c.entities.order.enabled = true;
  c.entities.product.enabled = true;
  const whole = (flag: string, text: string) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${flag} must be a whole number of at least 1 (got ${text})`);
    return n;
  };
  const tune = (stage: 'router' | 'reconciler', records: string | undefined) => {
    if (records !== undefined) c.processing[stage].recordsPerTransaction = whole(`${stage}-records`, records);
    if (args.parallel !== undefined) c.processing[stage].partitionsInParallel = whole('parallel', args.parallel);
  };
  tune('router', args['router-records']);
  tune('reconciler', args['reconciler-records']);
});
const names = topicNames(config.kafka.topicNamespace);
const log = createLogger('bench.router-reconciler', process.env.LOG_LEVEL ?? 'warn');
const kafka = createKafka(config.kafka, 'bench-rr', { logLevel: logLevel.NOTHING });
const registry = registryClient(config.registry);
const admin: Admin = kafka.admin();
await admin.connect();
const pool = new pg.Pool({ connectionString: config.shop.databaseUrl, max: 4 });

// transaction ids far above what the local shop database has used: ours to add and remove
const FIRST_TX = 4_000_000_000 + Math.floor(Math.random() * 100_000_000);
const ourTx: number[] = [];
const rawTopic = (table: string) => `${config.kafka.shopTopicPrefix}.${config.shop.schema}.${table}`;
const groups = ['router', 'reconciler'].map((p) => `${config.kafka.groupIdPrefix}.${p}`);

async function cleanup(): Promise<void> {
  const topics = [...new Set([...pipelineTopics(config).map((t) => t.topic), ...groups.map(changelogTopicFor)])];
  await admin.deleteTopics({ topics }).catch((err) => say(`deleting the bench's topics failed: ${(err as Error).message}`));
  await admin.deleteGroups(groups).catch(() => undefined);
  await pool.query('DELETE FROM shopforce_sink_transactions WHERE xid = ANY($1::bigint[])', [ourTx]).catch(() => undefined);
  await pool.end();
  await admin.disconnect();
}

try {
  // 1. the input, produced before anything reads it
  await preparePipelineTopics(config, kafka, registry);
  const plan = planFor(EVENTS, config.shopId, FIRST_TX);
  const events = shopEvents(plan, (tx) => ourTx.push(tx));
  await pool.query('INSERT INTO shopforce_sink_transactions (xid) SELECT unnest($1::bigint[]) ON CONFLICT (xid) DO NOTHING', [ourTx]);
  const counts = new Map<string, number>();
  for (const e of events) counts.set(e.table, (counts.get(e.table) ?? 0) + 1);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const producing = Date.now();
  for (let i = 0; i < events.length; i += 5_000) {
    const byTopic = new Map<string, Message[]>();
    for (const e of events.slice(i, i + 5_000)) {
      const topic = rawTopic(e.table);
      const list = byTopic.get(topic) ?? [];
      list.push({ key: e.key, value: e.value });
      byTopic.set(topic, list);
    }
    await producer.sendBatch({ topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })), acks: -1 });
  }
  await producer.disconnect();
  const inputBytes = events.reduce((n, e) => n + e.value.length + e.key.length, 0);
  const total = events.length;
  // the events are in Kafka now: this process's memory (peak RSS) is the path's own
  events.length = 0;
  say(`input: ${total} change events (${[...counts].map(([t, n]) => `${t} ${n}`).join(', ')}), ${(inputBytes / total).toFixed(0)} bytes each on average, produced in ${((Date.now() - producing) / 1000).toFixed(1)} s to ${PARTITIONS} partitions per topic`);

  // 2. the path, as run wires it
  const metricsRegistry = createMetricsRegistry();
  const metrics = runtimeMetrics(metricsRegistry);
  const own = new OwnTransactions(pool);
  let alerts = 0;
  const path = pathProcessors({
    config, kafka, names, metrics, log, encode: (subject, value) => registry.encode(subject, value), onAlert: () => { alerts++; },
    lookups: { isShopSinkTransaction: (txId) => own.isOurs(txId), learnShopTransactions: (txIds) => own.learn(txIds) },
  });
  const spans = new Map<string, { first: number; last: number }>();
  let cpuAtFirst: NodeJS.CpuUsage | undefined;
  const timed = <T, S>(opts: ProcessorOptions<T, S>): ProcessorOptions<T, S> => ({
    ...opts,
    handle: (ctx) => {
      const now = performance.now();
      const span = spans.get(opts.name);
      if (span) span.last = now;
      else spans.set(opts.name, { first: now, last: now });
      cpuAtFirst ??= process.cpuUsage();
      return opts.handle(ctx);
    },
  });
  const router = createProcessor(timed(path.router));
  const reconciler = createProcessor(timed(path.reconciler));

  let gcMs = 0;
  const gc = new PerformanceObserver((list) => { for (const e of list.getEntries()) gcMs += e.duration; });
  // what the process held before the path started (the generated input was let go, but the heap may keep its room)
  const rssStart = process.memoryUsage.rss();
  let rssPeak = 0;
  const sampler = setInterval(() => { rssPeak = Math.max(rssPeak, process.memoryUsage.rss()); }, 100);
  const profile = args.profile ? new CpuProfile() : undefined;
  await profile?.start();
  gc.observe({ entryTypes: ['gc'] });
  await router.start();
  await reconciler.start();

  // 3. done when each group's committed offsets reach the end of its input (the router's first: its output is the reconciler's input).
  // The router's output ends with the marker of its last transaction: past the record before it, everything is committed
  const deadline = Date.now() + TIMEOUT_MS;
  async function drained(groupId: string, topics: string[], transactional: boolean): Promise<void> {
    const ends = new Map<string, bigint>();
    for (const topic of topics) {
      for (const o of await fetchTopicOffsetsSettled(admin, topic)) ends.set(`${topic}:${o.partition}`, BigInt(o.high) - (transactional && BigInt(o.high) > 0n ? 1n : 0n));
    }
    for (;;) {
      const committed = await admin.fetchOffsets({ groupId, topics });
      const behind = committed.flatMap(({ topic, partitions }) => partitions.map((p) => ({ at: `${topic}:${p.partition}`, offset: BigInt(p.offset) })))
        .filter(({ at, offset }) => (ends.get(at) ?? 0n) > 0n && offset < ends.get(at)!);
      if (behind.length === 0) return;
      if (Date.now() > deadline) throw new Error(`${groupId} did not drain within ${TIMEOUT_MS / 1000} s: behind on ${behind.slice(0, 5).map((b) => `${b.at}@${b.offset}/${ends.get(b.at)}`).join(', ')}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  await drained(groups[0]!, path.router.topics, false);
  const routerDone = performance.now();
  await drained(groups[1]!, path.reconciler.topics, true);
  const end = performance.now();
  const cpu = process.cpuUsage(cpuAtFirst);
  gc.disconnect();
  clearInterval(sampler);
  let summary: ProfileSummary | undefined;
  if (profile) summary = await profile.stop(args.profile!);

  // 4. what it did
  const routerSpan = spans.get('router')!;
  const first = routerSpan.first;
  const seconds = (end - first) / 1000;
  const perS = Math.round(total / seconds);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const metricsJson = await metricsRegistry.getMetricsAsJSON();
  type Value = { labels: Record<string, string>; value: number; metricName?: string };
  const values = (name: string) => ((metricsJson.find((m) => m.name === name) as unknown as { values: Value[] } | undefined)?.values ?? []);
  const sum = (name: string, match: (l: Record<string, string>) => boolean, metricName = name) => values(name).filter((v) => (v.metricName ?? name) === metricName && match(v.labels)).reduce((n, v) => n + v.value, 0);
  const stage = (p: string) => {
    const span = spans.get(p)!;
    const commits = sum('shopforce_transactions_total', (l) => l.processor === p && l.result === 'committed');
    const commitS = sum('shopforce_commit_seconds', (l) => l.processor === p, 'shopforce_commit_seconds_sum');
    const consumed = sum('shopforce_records_consumed_total', (l) => l.processor === p);
    const produced = values('shopforce_records_produced_total').filter((v) => v.labels.processor === p).map((v) => `${v.labels.topic!.replace(`${config.kafka.topicNamespace}.`, '')} ${v.value}`).join(', ');
    const failed = sum('shopforce_transactions_total', (l) => l.processor === p && l.result !== 'committed');
    const dlq = sum('shopforce_dlq_records_total', (l) => l.processor === p);
    return `${p}: ${consumed} read in ${((span.last - span.first) / 1000).toFixed(1)} s of handling (first to last record), ${commits} transactions (mean ${commits ? ((commitS / commits) * 1000).toFixed(1) : '-'} ms each, ${failed} not committed), ${dlq} dead letters; wrote ${produced}`;
  };
  const settings = `router ${path.router.maxRecordsPerCommit ?? 500} / reconciler ${path.reconciler.maxRecordsPerCommit ?? 500} records per transaction, ${path.router.partitionsConsumedConcurrently ?? 1} / ${path.reconciler.partitionsConsumedConcurrently ?? 1} partitions in parallel`;
  const conditions = `${total} Debezium shop changes (${counts.get('customers')} customers with 2 addresses each, ${counts.get('products')} products as our own writes, ${counts.get('orders')} orders with ${counts.get('order_lines')} lines), ${PARTITIONS} partitions, produced before the start; router + reconciler in one process as run wires them (transactional, state on changelogs, own-transaction lookups in PostgreSQL, Avro outputs); ${settings}; first read to the reconciler's last commit; local single-broker stack, machine shared with other work`;
  say(stage('router'));
  say(stage('reconciler'));
  say(`path: ${total} events in ${seconds.toFixed(1)} s = ${perS} events/s (router done after ${((routerDone - first) / 1000).toFixed(1)} s); CPU ${(cpuMs / 1000).toFixed(1)} s = ${(cpuMs / total).toFixed(3)} ms per event (${((cpuMs / (end - first)) * 100).toFixed(0)} % of one core), GC ${(gcMs / 1000).toFixed(1)} s, RSS ${(rssStart / 2 ** 20).toFixed(0)} MB at the start, ${(rssPeak / 2 ** 20).toFixed(0)} MB at the peak; ${alerts} alerts`);
  say(`machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'cpu'}), Node ${process.version}; load avg before ${loadBefore.map((x) => x.toFixed(2)).join(' ')}, after ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} (machine shared with other work)`);
  reportFigure({ name: 'router-reconciler.events_per_s', value: perS, unit: 'events/s', goal: '>= 20000', conditions });
  // 20,000 events/s on 2 cores leaves 0.1 ms of CPU per event, for everything the process does
  reportFigure({ name: 'router-reconciler.cpu_ms_per_event', value: Math.round((cpuMs / total) * 1000) / 1000, unit: 'ms', goal: '<= 0.1', conditions: `${conditions}; process CPU (all threads) over the drain` });
  reportFigure({ name: 'router-reconciler.rss_peak_mb', value: Math.round(rssPeak / 2 ** 20), unit: 'MB', conditions: `${conditions}; sampled every 100 ms; ${Math.round(rssStart / 2 ** 20)} MB at the start` });
  if (summary) {
    say(`\nCPU profile of the drain (${args.profile}), busy samples only (idle ${summary.idlePercent} % of all):`);
    say(`  by place: ${summary.byPlace.map((p) => `${p.place} ${p.percent} %`).join(', ')}`);
    say('  top self time:');
    for (const f of summary.top) say(`    ${String(f.percent).padStart(5)} %  ${f.frame}`);
    say('  src/ functions by total time (callees included):');
    for (const f of summary.ownTotal) say(`    ${String(f.percent).padStart(5)} %  ${f.frame}`);
  }
  await reconciler.stop();
  await router.stop();
} finally {
  await cleanup();
}
