import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import type { ComponentStatus, StackComponent, StackContext } from '../component.ts';
import { fetchMavenArtifacts } from '../artifacts.ts';
import { LOG4J2_STDOUT, requireJava17 } from '../java.ts';
import { MAX_MESSAGE_BYTES } from '../../kafka/topics.ts';
import { assertPortFree, isAlive, portOpen, readPid, startDaemon, stopDaemon, waitUntil } from '../process.ts';

export const KAFKA_VERSION = '4.3.0';

const dir = (ctx: StackContext) => join(ctx.stateDir, 'kafka');
const pidFile = (ctx: StackContext) => join(dir(ctx), 'kafka.pid');

/** Folder of the Kafka jars (broker, Connect runtime, console tools), fetched once from Maven Central. */
export function kafkaLibs(ctx: StackContext, say = ctx.say): Promise<string> {
  return fetchMavenArtifacts(
    { label: `Apache Kafka ${KAFKA_VERSION}`, pomFile: join(ctx.repoDir, 'stack/maven/kafka/pom.xml'), outDirBase: join(ctx.cacheDir, `kafka-${KAFKA_VERSION}`) },
    say,
  );
}

export function kafkaBootstrap(ctx: StackContext): string {
  return `127.0.0.1:${ctx.ports.kafka}`;
}

function serverProperties(ctx: StackContext): string {
  const { kafka, kafkaController } = ctx.ports;
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${kafkaController}`,
    `listeners=PLAINTEXT://127.0.0.1:${kafka},CONTROLLER://127.0.0.1:${kafkaController}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${kafka}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${join(dir(ctx), 'data')}`,
    'num.partitions=6',
    // a single node: every internal topic must have replication factor 1, or groups never get a coordinator
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=10',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=5',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'default.replication.factor=1',
    'min.insync.replicas=1',
    'group.initial.rebalance.delay.ms=0',
    // topics are created on purpose (Debezium through Connect, the pipeline through ensureTopics), never by a typo
    'auto.create.topics.enable=false',
    'log.retention.hours=168',
    'log.cleaner.min.compaction.lag.ms=0',
    // a shop row of several MB (a long text column) must fit: Kafka's default is 1 MB (MAX_MESSAGE_BYTES, src/kafka/topics.ts)
    `message.max.bytes=${MAX_MESSAGE_BYTES}`,
    '',
  ].join('\n');
}

async function brokerAnswers(ctx: StackContext): Promise<boolean> {
  if (!(await portOpen(ctx.ports.kafka))) return false;
  const admin = new Kafka({ brokers: [kafkaBootstrap(ctx)], clientId: 'shopforce-stack', logLevel: logLevel.NOTHING, retry: { retries: 0 }, connectionTimeout: 2000 }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

export const kafka: StackComponent = {
  name: 'kafka',

  async prepare(ctx) {
    requireJava17();
    await kafkaLibs(ctx);
  },

  async start(ctx) {
    const java = requireJava17();
    const libs = await kafkaLibs(ctx);
    await assertPortFree(ctx.ports.kafka, 'Kafka', 'SHOPFORCE_KAFKA_PORT');
    await assertPortFree(ctx.ports.kafkaController, 'the Kafka controller', 'SHOPFORCE_KAFKA_CONTROLLER_PORT');
    mkdirSync(dir(ctx), { recursive: true });
    const props = join(dir(ctx), 'server.properties');
    const log4j = join(dir(ctx), 'log4j2.properties');
    writeFileSync(props, serverProperties(ctx));
    writeFileSync(log4j, LOG4J2_STDOUT);
    const classpath = `${libs}/*`;
    const jvm = ['-Xms256m', '-Xmx768m', '-XX:+UseG1GC', `-Dlog4j2.configurationFile=${log4j}`, '-cp', classpath];
    if (!existsSync(join(dir(ctx), 'data', 'meta.properties'))) {
      // KRaft: a new log folder must be formatted with a cluster id before the first start
      const clusterId = execFileSync(java, [...jvm, 'kafka.tools.StorageTool', 'random-uuid'], { encoding: 'utf8' }).trim().split('\n').pop()!;
      execFileSync(java, [...jvm, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', props], { stdio: 'ignore' });
    }
    const pid = startDaemon({ command: java, args: [...jvm, 'kafka.Kafka', props], logFile: this.logFile(ctx), pidFile: pidFile(ctx) });
    await waitUntil('Kafka', () => brokerAnswers(ctx), { timeoutMs: 90_000, logFile: this.logFile(ctx), pid });
  },

  async health(ctx) {
    return brokerAnswers(ctx).catch(() => false);
  },

  async status(ctx): Promise<ComponentStatus> {
    const pid = readPid(pidFile(ctx));
    return { name: 'kafka', port: ctx.ports.kafka, healthy: await this.health(ctx), pid: isAlive(pid) ? pid : undefined, address: kafkaBootstrap(ctx), detail: `Apache Kafka ${KAFKA_VERSION} (KRaft, single node)` };
  },

  async stop(ctx) {
    await stopDaemon(pidFile(ctx), 30_000);
  },

  logFile(ctx) {
    return join(dir(ctx), 'kafka.log');
  },
};
