import { logLevel, type Admin } from 'kafkajs';
import { createKafka } from '../kafka/client.ts';
import type { ShopforceConfig } from '../config/schema.ts';
import { readDlq, type DlqRecord } from '../dlq/dlq-reader.ts';
import { topicNames } from '../flows/topic-names.ts';
import { fetchTopicOffsetsSettled } from '../kafka/topics.ts';
import type { StatusSnapshot } from '../observability/status-page/types.ts';
import type { ComponentStatus } from '../stack/component.ts';

/** The consumer-group stages of `shopforce run` (src/run/pipeline.ts, salesforce-stages.ts): group <prefix>.<stage>. */
export const CONSUMER_STAGES = ['router', 'reconciler', 'shop-sink', 'sf-sink'] as const;

export interface TopicLag { topic: string; lag: number; partitions: number; committed: boolean }

export interface StageStatus {
  stage: string;
  groupId: string;
  /** Kafka's group state: Stable (members running), Empty (nobody running), Dead (never ran), ... */
  state: string;
  /** Running copies of `shopforce run` in the group. */
  members: number;
  /**
   * Records between the group's committed offsets and the end of its input topics. The stages
   * commit past the transaction markers that end their inputs, so a caught-up stage shows 0.
   */
  lag: number;
  topics: TopicLag[];
}

export interface ProcessHealth {
  url: string;
  reachable: boolean;
  ready?: boolean;
  checks?: Record<string, boolean>;
  /** Stages paused by an error of their environment (a revoked privilege, a field made read-only...), with the reason. */
  paused?: Record<string, { since: string; reason: string }>;
  error?: string;
  /** What the running process knows of itself (from its status page's snapshot), when it answers. */
  view?: ProcessView;
}

/** The Salesforce source channels, the API quota, the parked writes and the latest alerts of the running process. */
export type ProcessView = Pick<StatusSnapshot, 'source' | 'quota' | 'parked' | 'alerts'>;

export interface DeadLetterSummary {
  topic: string;
  exists: boolean;
  total: number;
  notReplayed: number;
  /** The latest dead letters, newest first: the last errors the pipeline could not get past. */
  latest: Array<{ failedAt: string; processor: string; failure: string; errorClass: string; reason: string; source: string; key: string | null }>;
}

export interface PipelineStatus {
  at: string;
  brokers: string[];
  components?: ComponentStatus[];
  stages: StageStatus[];
  process: ProcessHealth;
  deadLetters: DeadLetterSummary;
}

async function stageStatus(admin: Admin, groupId: string, stage: string, ends: (topic: string) => Promise<Map<number, { low: bigint; high: bigint }>>): Promise<StageStatus> {
  const [described] = (await admin.describeGroups([groupId])).groups;
  const committed = await admin.fetchOffsets({ groupId });
  const topics: TopicLag[] = [];
  for (const { topic, partitions } of committed) {
    const end = await ends(topic);
    let lag = 0;
    let any = false;
    for (const [partition, { low, high }] of end) {
      const at = partitions.find((p) => p.partition === partition);
      const offset = at && Number(at.offset) >= 0 ? BigInt(at.offset) : undefined;
      if (offset !== undefined) any = true;
      const from = offset ?? low;
      if (high > from) lag += Number(high - from);
    }
    topics.push({ topic, lag, partitions: end.size, committed: any });
  }
  topics.sort((a, b) => a.topic.localeCompare(b.topic));
  return {
    stage, groupId, state: described?.state ?? 'Unknown', members: described?.members.length ?? 0,
    lag: topics.reduce((n, t) => n + t.lag, 0), topics,
  };
}

/**
 * /readyz of the `shopforce run` this configuration describes (observability.metricsHost/Port),
 * and what it knows of itself (/status/snapshot.json).
 */
export async function processHealth(config: ShopforceConfig): Promise<ProcessHealth> {
  const host = config.observability.metricsHost === '0.0.0.0' ? '127.0.0.1' : config.observability.metricsHost;
  const base = `http://${host.includes(':') ? `[${host}]` : host}:${config.observability.metricsPort}`;
  const url = `${base}/readyz`;
  const ask = (path: string) => fetch(`${base}${path}`, {
    signal: AbortSignal.timeout(2_000),
    headers: config.observability.accessToken ? { authorization: `Bearer ${config.observability.accessToken}` } : {},
  });
  try {
    const res = await ask('/readyz');
    if (res.status === 401) return { url, reachable: true, error: 'HTTP 401: the access token is not the one the process has' };
    const body = (await res.json()) as { ready?: boolean; checks?: Record<string, boolean>; paused?: ProcessHealth['paused'] };
    const snapshot = await ask('/status/snapshot.json').then((r) => (r.ok ? r.json() as Promise<StatusSnapshot> : undefined), () => undefined);
    const view = snapshot ? { source: snapshot.source, quota: snapshot.quota, parked: snapshot.parked, alerts: snapshot.alerts } : undefined;
    return { url, reachable: true, ready: body.ready === true, checks: body.checks ?? {}, ...(body.paused ? { paused: body.paused } : {}), ...(view ? { view } : {}) };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    return { url, reachable: false, error: cause === 'ECONNREFUSED' ? 'nothing listens there' : (err as Error).message };
  }
}

/** One dead letter as the status lists it. */
export function latestEntry(r: DlqRecord): DeadLetterSummary['latest'][number] {
  return {
    failedAt: r.failedAt, processor: r.processor, failure: r.failure, errorClass: r.errorClass, reason: r.reason,
    source: `${r.source.topic}[${r.source.partition}]@${r.source.offset}`, key: r.key?.toString('utf8') ?? null,
  };
}

/** The dead letters of this pipeline's namespace: how many, how many not replayed, the latest `latest` newest first. */
export async function deadLetters(config: ShopforceConfig, latest: number): Promise<DeadLetterSummary> {
  const topic = topicNames(config.kafka.topicNamespace).dlq;
  try {
    const records = await readDlq(config.kafka, topic);
    return {
      topic, exists: true, total: records.length, notReplayed: records.filter((r) => !r.replayed).length,
      latest: records.slice(-latest).reverse().map(latestEntry),
    };
  } catch (err) {
    if (/does not exist/.test((err as Error).message)) return { topic, exists: false, total: 0, notReplayed: 0, latest: [] };
    throw err;
  }
}

/**
 * What `shopforce status` shows: each stage's consumer group (state, running copies, lag from
 * Kafka's admin API), the health of the running process, and the dead letters with the latest
 * reasons. `components` (the local stack) is filled in by the caller when there is one.
 */
export async function pipelineStatus(config: ShopforceConfig, opts: { latestDeadLetters?: number } = {}): Promise<PipelineStatus> {
  const [stages, process, dlq] = await Promise.all([consumerStages(config), processHealth(config), deadLetters(config, opts.latestDeadLetters ?? 5)]);
  return { at: new Date().toISOString(), brokers: config.kafka.brokers, stages, process, deadLetters: dlq };
}

/** Each stage's consumer group: its state, running copies and lag, from Kafka's admin API. */
export async function consumerStages(config: ShopforceConfig): Promise<StageStatus[]> {
  const kafka = createKafka(config.kafka, `${config.kafka.clientId}-status`, { logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const endCache = new Map<string, Promise<Map<number, { low: bigint; high: bigint }>>>();
  const ends = (topic: string) => {
    let p = endCache.get(topic);
    if (!p) {
      p = fetchTopicOffsetsSettled(admin, topic).then((os) => new Map(os.map((o) => [o.partition, { low: BigInt(o.low), high: BigInt(o.high) }])));
      endCache.set(topic, p);
    }
    return p;
  };
  try {
    const stages: StageStatus[] = [];
    for (const stage of CONSUMER_STAGES) stages.push(await stageStatus(admin, `${config.kafka.groupIdPrefix}.${stage}`, stage, ends));
    return stages;
  } finally {
    await admin.disconnect();
  }
}
