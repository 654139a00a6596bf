import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { REPO_DIR } from '../../src/stack/context.ts';
import { KAFKA_VERSION } from '../../src/stack/components/kafka.ts';
import { CONNECT_WORKER, DEBEZIUM_VERSION } from '../../src/stack/components/connect.ts';
import { APICURIO_VERSION, REGISTRY_API_PATH } from '../../src/stack/components/registry.ts';
import { MAX_SLOT_WAL_KEEP_SIZE } from '../../src/stack/components/postgres.ts';
import { SHOP_CONNECTOR_FILE } from '../../src/stack/stack.ts';
import { placeholdersOf, parseConnectorDefinition } from '../../src/connect/connector-file.ts';
import { sandboxEnv } from '../../src/sandbox/env-file.ts';

// docker-compose.yml cannot run here (no Docker engine): these checks keep it in agreement with
// the native stack, so a user with Docker gets the same topology, versions, topics and variables.
const compose = parse(readFileSync(join(REPO_DIR, 'docker-compose.yml'), 'utf8'), { merge: true });
const services = compose.services as Record<string, any>;
const tagOf = (image: string) => image.slice(image.lastIndexOf(':') + 1);

describe('docker-compose.yml', () => {
  test('has every part of the design topology', () => {
    for (const name of ['postgres', 'kafka', 'connect', 'registry', 'kafka-ui', 'sandbox', 'processors', 'init']) {
      assert.ok(services[name], `service ${name}`);
    }
  });

  test('pins every image to a version', () => {
    for (const [name, svc] of Object.entries(services)) {
      if (svc.build) continue;
      assert.match(svc.image, /:[\w.-]+$/, `${name} has a tag`);
      assert.notEqual(tagOf(svc.image), 'latest', `${name} is not :latest`);
    }
  });

  test('runs the same versions as the native stack', () => {
    assert.equal(tagOf(services.kafka.image), KAFKA_VERSION);
    assert.equal(tagOf(services.connect.image), DEBEZIUM_VERSION);
    assert.match(services.connect.image, /debezium\/connect/, 'the official Debezium Connect image');
    assert.equal(tagOf(services.registry.image), APICURIO_VERSION);
    assert.ok(Number(tagOf(services.postgres.image).split('.')[0]) >= 15, 'PostgreSQL 15+ (the migrations need it)');
  });

  test('PostgreSQL has logical decoding and single-node Kafka has replication factor 1 for internal topics', () => {
    assert.ok(services.postgres.command.includes('wal_level=logical'));
    assert.ok(services.postgres.command.includes(`max_slot_wal_keep_size=${MAX_SLOT_WAL_KEEP_SIZE}`), 'the slot\'s WAL is capped as in the native stack');
    const env = services.kafka.environment;
    assert.equal(env.KAFKA_PROCESS_ROLES, 'broker,controller', 'KRaft, no ZooKeeper');
    for (const key of ['KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR', 'KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR', 'KAFKA_TRANSACTION_STATE_LOG_MIN_ISR']) {
      assert.equal(String(env[key]), '1', key);
    }
  });

  test('Kafka Connect uses the native worker\'s group and storage topic names', () => {
    const env = services.connect.environment;
    assert.equal(env.GROUP_ID, CONNECT_WORKER.groupId);
    assert.equal(env.CONFIG_STORAGE_TOPIC, CONNECT_WORKER.configTopic);
    assert.equal(env.OFFSET_STORAGE_TOPIC, CONNECT_WORKER.offsetTopic);
    assert.equal(env.STATUS_STORAGE_TOPIC, CONNECT_WORKER.statusTopic);
  });

  test('applies the same connector file, with every placeholder set by the environment', () => {
    const init = services.init;
    assert.ok(init.volumes.some((v: string) => v.startsWith('./connectors:')), 'connectors/ is mounted');
    assert.match(init.command.join(' '), new RegExp(`connectors apply ${SHOP_CONNECTOR_FILE.replace('.', '\\.')}`));
    const definition = parseConnectorDefinition(JSON.parse(readFileSync(join(REPO_DIR, SHOP_CONNECTOR_FILE), 'utf8')), SHOP_CONNECTOR_FILE);
    for (const name of placeholdersOf(definition)) assert.ok(init.environment[name], `init sets ${name}`);
    assert.equal(init.environment.SHOP_PG_HOST, 'postgres');
  });

  test('the processors get every variable the example config reads, under the same names', () => {
    const config = readFileSync(join(REPO_DIR, 'examples/shopforce.sandbox.yaml'), 'utf8');
    const variables = [...config.matchAll(/\$\{([A-Z0-9_]+)(:-[^}]*)?\}/g)].map((m) => m[1]!);
    assert.ok(variables.length > 0);
    const processors = services.processors;
    const command = processors.command.join(' ');
    // SF_* come from the env file the sandbox writes (the same writer as `shopforce sandbox up`)
    assert.match(command, /\. \/sandbox\/sandbox\.env/);
    const fromSandbox = new Set(Object.keys(sandboxEnv(SAMPLE_SANDBOX)));
    for (const name of new Set(variables)) {
      assert.ok(processors.environment[name] !== undefined || fromSandbox.has(name), `processors get ${name}`);
    }
    assert.equal(processors.environment.SHOPFORCE_REGISTRY_URL.endsWith(REGISTRY_API_PATH), true, 'the Confluent API path of Apicurio');
    assert.ok(processors.deploy.replicas >= 2, 'processors scale by replicas');
    assert.equal(services.sandbox.environment.SANDBOX_HOST, '0.0.0.0', 'the sandbox listens beyond its container');
  });
  test('publishes every port on 127.0.0.1 only: nothing of the stack is reachable from the network', () => {
    const published = Object.entries(services).flatMap(([name, svc]) => ((svc.ports ?? []) as Array<string | Record<string, unknown>>).map((p) => [name, p] as const));
    assert.ok(published.length >= 8, `the stack publishes its ports (${published.length})`);
    for (const [name, port] of published) {
      // short syntax "127.0.0.1:host:container"; long syntax { host_ip: 127.0.0.1, ... }
      const hostIp = typeof port === 'string' ? (port.split(':').length === 3 ? port.split(':')[0] : undefined) : port.host_ip;
      assert.equal(hostIp, '127.0.0.1', `${name} publishes ${JSON.stringify(port)} on 127.0.0.1`);
    }
  });
});

const SAMPLE_SANDBOX = {
  loginUrl: 'http://sandbox:58080', httpsUrl: 'https://sandbox:58443', pubSubEndpoint: 'sandbox:58444', apiVersion: '60.0', caCertPath: '/sandbox/data/tls/cert.pem',
  credentials: { orgId: 'o', userId: 'u', username: 'n', password: 'p', clientId: 'c', clientSecret: 's', adminToken: 't', jwtPrivateKeyPath: 'k', jwtCertPath: 'c' },
};
