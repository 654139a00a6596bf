import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { Registry } from 'prom-client';
import type { SalesforceConfig } from '../../src/salesforce/auth/connection.ts';
import { createSalesforceSource, type SalesforceSource, type SalesforceSourceOptions } from '../../src/salesforce/source/index.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { getTestStack } from '../support/stack.ts';
import { collectMessages, collectThroughSentinel, type CollectedMessage } from '../support/kafka.ts';
import { API_VERSION, type TestSandbox } from '../sandbox/sandbox-helpers.ts';

/** The Salesforce config of a running test sandbox (JWT bearer, its CA, its Pub/Sub endpoint). */
export function sandboxSfConfig(t: TestSandbox, mode: 'pubsub' | 'streaming', keepaliveTimeoutMs = 300_000): SalesforceConfig {
  const { sb } = t;
  return {
    loginUrl: sb.loginUrl, authType: 'jwt', clientId: sb.credentials.clientId, username: sb.credentials.username,
    privateKeyPath: sb.credentials.jwtPrivateKeyPath, apiVersion: API_VERSION, callOptionsClient: 'shopforce-test',
    caCertPath: sb.caCertPath, source: { mode, pubsubEndpoint: sb.pubSubEndpoint, keepaliveTimeoutMs },
  } as SalesforceConfig;
}

export interface SourceRig {
  brokers: string[];
  kafka: Kafka;
  topics: { prefix: string; images: string; checkpoints: string };
  registry: Registry;
  make(overrides?: Partial<SalesforceSourceOptions>): SalesforceSource;
  /** Messages on <prefix>.<object> matching `match`, once `until` holds (or the timeout passes). */
  read(object: string, until: (all: CollectedMessage[]) => boolean, timeoutMs?: number): Promise<CollectedMessage[]>;
  /**
   * Every message on <prefix>.<object>: a person creates one more record (the sentinel) after the
   * test's edits, and the topic is read past its event to the end, so extra copies are seen too.
   * The sentinel's message is left out. The source must be running to publish it.
   */
  readAll(object: string, timeoutMs?: number): Promise<CollectedMessage[]>;
}

/** An external id field per object, to create a sentinel record by. */
const SENTINEL_EXT_ID: Record<string, string> = { Product2: 'Sku__c', Account: 'Shop_Customer_Id__c', Contact: 'Shop_Customer_Id__c' };

/** Unique topic names per run on the real local Kafka, and a factory of sources against `t`. */
export async function sourceRig(t: TestSandbox, mode: 'pubsub' | 'streaming', objects: string[], keepaliveTimeoutMs?: number): Promise<SourceRig> {
  const { kafka: { brokers } } = await getTestStack();
  const run = `t${randomUUID().slice(0, 8)}`;
  const topics = { prefix: `${run}.sf.cdc`, images: `${run}.sf.image`, checkpoints: `${run}.sf.checkpoints` };
  const kafka = new Kafka({ brokers, clientId: 'sf-source-test', logLevel: logLevel.NOTHING });
  const registry = new Registry();
  return {
    brokers, kafka, topics, registry,
    make: (overrides = {}) => createSalesforceSource({
      sfConfig: sandboxSfConfig(t, mode, keepaliveTimeoutMs), objects, kafka, topicPrefix: topics.prefix,
      imageTopic: topics.images, checkpointTopic: topics.checkpoints, logger: createLogger('sf-source-test', process.env.LOG_LEVEL ?? 'silent'),
      metrics: registry, partitions: 2, ...overrides,
    }),
    read: (object, until, timeoutMs = 20_000) => collectMessages(brokers, [`${topics.prefix}.${object}`], { until, timeoutMs }),
    async readAll(object, timeoutMs = 60_000) {
      const field = SENTINEL_EXT_ID[object];
      if (!field) throw new Error(`readAll: no external id field to create a sentinel ${object} by`);
      const { id } = t.sb.admin.userEdit({ object, externalId: { field, value: `SENTINEL-${randomUUID()}` }, fields: object === 'Contact' ? { LastName: 'Sentinel' } : { Name: 'Sentinel' } });
      const { messages } = await collectThroughSentinel(brokers, [`${topics.prefix}.${object}`], { sentinel: (m) => m.key === id, timeoutMs });
      return messages;
    },
  };
}

/** Waits until `cond` holds (polling), failing with `what` after the timeout. */
export async function waitUntil(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Current value of a counter of the source's metrics, summed over labels matching `labels`. */
export async function counterValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  return values.filter((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val)).reduce((s, v) => s + v.value, 0);
}
