import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ComponentStatus, StackComponent, StackContext } from '../component.ts';
import { fetchMavenArtifacts } from '../artifacts.ts';
import { LOG4J2_STDOUT, requireJava17 } from '../java.ts';
import { assertPortFree, isAlive, readPid, startDaemon, stopDaemon, waitUntil } from '../process.ts';
import { kafkaBootstrap, kafkaLibs } from './kafka.ts';

export const DEBEZIUM_VERSION = '3.6.1.Final';
export const POSTGRES_CONNECTOR_CLASS = 'io.debezium.connector.postgresql.PostgresConnector';

const dir = (ctx: StackContext) => join(ctx.stateDir, 'connect');
const pidFile = (ctx: StackContext) => join(dir(ctx), 'connect.pid');
const pluginRoot = (ctx: StackContext) => join(ctx.cacheDir, 'connect-plugins');

/** Kafka Connect's own topics and group: the same names in docker-compose.yml. */
export const CONNECT_WORKER = {
  groupId: 'shopforce-connect',
  configTopic: 'shopforce-connect-configs',
  offsetTopic: 'shopforce-connect-offsets',
  statusTopic: 'shopforce-connect-status',
} as const;

export function connectUrl(ctx: StackContext): string {
  return `http://127.0.0.1:${ctx.ports.connect}`;
}

/** The Debezium PostgreSQL connector in its own plugin folder (Kafka jars excluded: the worker has them). */
function debeziumPlugin(ctx: StackContext): Promise<string> {
  return fetchMavenArtifacts(
    {
      label: `Debezium PostgreSQL connector ${DEBEZIUM_VERSION}`,
      pomFile: join(ctx.repoDir, 'stack/maven/debezium/pom.xml'),
      outDirBase: join(pluginRoot(ctx), `debezium-connector-postgres-${DEBEZIUM_VERSION}`),
      excludeGroupIds: ['org.apache.kafka', 'org.slf4j', 'org.lz4', 'org.xerial.snappy', 'com.github.luben', 'com.fasterxml.jackson.core', 'com.fasterxml.jackson.datatype'],
    },
    ctx.say,
  );
}

function workerProperties(ctx: StackContext, pluginDir: string): string {
  return [
    `bootstrap.servers=${kafkaBootstrap(ctx)}`,
    `group.id=${CONNECT_WORKER.groupId}`,
    `listeners=http://127.0.0.1:${ctx.ports.connect}`,
    `plugin.path=${pluginDir}`,
    'key.converter=org.apache.kafka.connect.json.JsonConverter',
    'value.converter=org.apache.kafka.connect.json.JsonConverter',
    'key.converter.schemas.enable=false',
    'value.converter.schemas.enable=false',
    `config.storage.topic=${CONNECT_WORKER.configTopic}`,
    `offset.storage.topic=${CONNECT_WORKER.offsetTopic}`,
    `status.storage.topic=${CONNECT_WORKER.statusTopic}`,
    // single broker: replication factor 1 for Connect's own topics
    'config.storage.replication.factor=1',
    'offset.storage.replication.factor=1',
    'status.storage.replication.factor=1',
    'offset.flush.interval.ms=1000',
    'topic.creation.enable=true',
    'scheduled.rebalance.max.delay.ms=0',
    '',
  ].join('\n');
}

async function pluginLoaded(ctx: StackContext): Promise<boolean> {
  const res = await fetch(`${connectUrl(ctx)}/connector-plugins`, { signal: AbortSignal.timeout(2000) });
  if (!res.ok) return false;
  const plugins = (await res.json()) as Array<{ class: string }>;
  return plugins.some((p) => p.class === POSTGRES_CONNECTOR_CLASS);
}

export const connect: StackComponent = {
  name: 'connect',

  async prepare(ctx) {
    requireJava17();
    await kafkaLibs(ctx);
    await debeziumPlugin(ctx);
  },

  async start(ctx) {
    const java = requireJava17();
    const libs = await kafkaLibs(ctx);
    const plugin = await debeziumPlugin(ctx);
    await assertPortFree(ctx.ports.connect, 'Kafka Connect', 'SHOPFORCE_CONNECT_PORT');
    mkdirSync(dir(ctx), { recursive: true });
    const props = join(dir(ctx), 'connect-distributed.properties');
    const log4j = join(dir(ctx), 'log4j2.properties');
    // plugin.path holds plugin folders; link in just this Debezium build (older cached builds stay out)
    const plugins = join(dir(ctx), 'plugins');
    rmSync(plugins, { recursive: true, force: true });
    mkdirSync(plugins, { recursive: true });
    symlinkSync(plugin, join(plugins, 'debezium-connector-postgres'));
    writeFileSync(props, workerProperties(ctx, plugins));
    writeFileSync(log4j, LOG4J2_STDOUT);
    const args = ['-Xms256m', '-Xmx1g', '-XX:+UseG1GC', `-Dlog4j2.configurationFile=${log4j}`, '-cp', `${libs}/*`, 'org.apache.kafka.connect.cli.ConnectDistributed', props];
    const pid = startDaemon({ command: java, args, logFile: this.logFile(ctx), pidFile: pidFile(ctx) });
    await waitUntil('Kafka Connect', () => pluginLoaded(ctx), { timeoutMs: 180_000, intervalMs: 1000, logFile: this.logFile(ctx), pid });
  },

  async health(ctx) {
    return pluginLoaded(ctx).catch(() => false);
  },

  async status(ctx): Promise<ComponentStatus> {
    const pid = readPid(pidFile(ctx));
    return { name: 'connect', port: ctx.ports.connect, healthy: await this.health(ctx), pid: isAlive(pid) ? pid : undefined, address: connectUrl(ctx), detail: `Kafka Connect (distributed) with Debezium PostgreSQL ${DEBEZIUM_VERSION}` };
  },

  async stop(ctx) {
    await stopDaemon(pidFile(ctx), 30_000);
  },

  logFile(ctx) {
    return join(dir(ctx), 'connect.log');
  },
};
