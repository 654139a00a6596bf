import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { applyDefinition, removeConnector } from '../../src/connect/apply.ts';
import { ConnectClient } from '../../src/connect/client.ts';
import { loadConnectorFile } from '../../src/connect/connector-file.ts';
import { ConnectorConfigError, ConnectorFailedError } from '../../src/connect/errors.ts';
import type { ConnectorDefinition } from '../../src/connect/types.ts';
import { DEFAULT_CONNECTOR_FILE } from '../../src/cli/commands/connectors.ts';
import { createTestDatabase, testStack, type TestDatabase } from '../shop/support.ts';

/** Kafka Connect and Kafka of the test stack (or SHOPFORCE_TEST_CONNECT_URL / SHOPFORCE_TEST_KAFKA_BROKERS). */
async function connectTarget(): Promise<{ connectUrl: string; brokers: string[] }> {
  const stack = process.env.SHOPFORCE_TEST_CONNECT_URL ? undefined : await testStack();
  const connectUrl = process.env.SHOPFORCE_TEST_CONNECT_URL ?? stack?.connect.url;
  const brokers = process.env.SHOPFORCE_TEST_KAFKA_BROKERS?.split(',') ?? stack?.kafka.brokers;
  if (!connectUrl || !brokers) {
    throw new Error('no Kafka Connect for the connector tests: run them through the test stack or set SHOPFORCE_TEST_CONNECT_URL and SHOPFORCE_TEST_KAFKA_BROKERS');
  }
  return { connectUrl, brokers };
}

describe('applying the Debezium connector through the real Kafka Connect', () => {
  let db: TestDatabase;
  let target: { connectUrl: string; brokers: string[] };
  let client: ConnectClient;
  const run = randomBytes(3).toString('hex');
  const created: string[] = [];
  const topicPrefix = `shoptest${run}`;

  /** The project's connector file aimed at this test's database, with names of its own. */
  async function definition(suffix: string, overrides: Record<string, string> = {}, vars: Record<string, string> = {}): Promise<ConnectorDefinition> {
    const url = new URL(db.adminUrl);
    const def = await loadConnectorFile(DEFAULT_CONNECTOR_FILE, {
      SHOP_PG_HOST: url.hostname, SHOP_PG_PORT: url.port || '5432', SHOP_PG_USER: 'debezium',
      SHOP_PG_PASSWORD: 'debezium', SHOP_PG_DATABASE: db.name, SHOP_TOPIC_REPLICATION_FACTOR: '1', ...vars,
    });
    const name = `shop-postgres-test-${run}-${suffix}`;
    created.push(name);
    return {
      name,
      config: { ...def.config, 'topic.prefix': `${topicPrefix}${suffix}`, 'slot.name': `sf_test_${run}_${suffix}`, ...overrides },
    };
  }

  before(async () => {
    target = await connectTarget();
    client = new ConnectClient(target.connectUrl);
    db = await createTestDatabase('connect');
  });

  after(async () => {
    for (const name of created) await removeConnector(client, name, { forgetOffsets: true }).catch(() => undefined);
    await db?.drop();
    const kafka = new Kafka({ brokers: target.brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(topicPrefix) || t.startsWith(`__debezium-heartbeat.${topicPrefix}`));
    if (topics.length > 0) await admin.deleteTopics({ topics });
    await admin.disconnect();
  });

  it('creates the connector, waits until it and its task run, and updates it in place on a second apply', async () => {
    const def = await definition('ok');
    const lines: string[] = [];
    const first = await applyDefinition(def, { connectUrl: target.connectUrl, timeoutMs: 90_000, say: (l) => lines.push(l) });
    assert.equal(first.created, true);
    assert.equal(first.status.connector.state, 'RUNNING');
    assert.ok(first.status.tasks.length > 0 && first.status.tasks.every((t) => t.state === 'RUNNING'));
    assert.ok(lines.some((l) => l.includes('RUNNING')), 'progress says RUNNING');
    const all = await client.listStatuses();
    assert.equal(all[def.name]?.connector.state, 'RUNNING');
    const second = await applyDefinition(def, { connectUrl: target.connectUrl, timeoutMs: 90_000 });
    assert.equal(second.created, false);
    assert.equal((await client.getConnector(def.name)).config['slot.name'], def.config['slot.name']);
  });

  it('refuses a wrong table name before creating anything, naming the table', async () => {
    const def = await definition('badtable', { 'table.include.list': 'public.orders,public.orderz' });
    await assert.rejects(applyDefinition(def, { connectUrl: target.connectUrl }), (err: Error) => {
      assert.ok(err instanceof ConnectorConfigError);
      assert.match(err.message, /table\.include\.list/);
      assert.match(err.message, /public\.orderz matches no table in database sf_test_connect_/);
      return true;
    });
    assert.equal(await client.getStatus(def.name), undefined);
  });

  it('refuses bad credentials with Debezium\'s own message, without echoing the password', async () => {
    const def = await definition('badpw', {}, { SHOP_PG_PASSWORD: 'not-the-password' });
    await assert.rejects(applyDefinition(def, { connectUrl: target.connectUrl }), (err: Error) => {
      assert.ok(err instanceof ConnectorConfigError);
      assert.match(err.message, /password authentication failed for user "debezium"/);
      assert.ok(!err.message.includes('not-the-password'));
      return true;
    });
    assert.equal(await client.getStatus(def.name), undefined);
  });

  it('reports a FAILED task with its trace', async () => {
    const def = await definition('nopub', { 'publication.name': `no_such_publication_${run}` });
    await assert.rejects(applyDefinition(def, { connectUrl: target.connectUrl, timeoutMs: 90_000, preflight: false }), (err: Error) => {
      assert.ok(err instanceof ConnectorFailedError);
      assert.match(err.message, /task 0 FAILED/);
      assert.match(err.message, /Publication autocreation is disabled/);
      assert.match(err.message, /at io\.debezium\./, 'carries the Java stack trace');
      return true;
    });
  });

  it('the preflight catches the missing publication before Connect does', async () => {
    const def = await definition('nopub2', { 'publication.name': `no_such_publication_${run}` });
    await assert.rejects(applyDefinition(def, { connectUrl: target.connectUrl }), /publication\.name = "no_such_publication_.*": publication does not exist/);
  });
});
