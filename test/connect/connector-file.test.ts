import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConnectorFile, parseConnectorDefinition, placeholdersOf, substitutePlaceholders } from '../../src/connect/connector-file.ts';
import { connectorVarsFromEnv } from '../../src/connect/vars.ts';
import { DEFAULT_CONNECTOR_FILE } from '../../src/cli/commands/connectors.ts';
import { MAX_MESSAGE_BYTES } from '../../src/kafka/topics.ts';
import { PUBLICATION_NAME, SYNCED_TABLES } from '../../src/shop/tables.ts';

describe('connectors/shop-postgres.json', () => {
  it('uses placeholders only for the database address and credentials, and the replication factor of its topics', async () => {
    const vars = { SHOP_PG_HOST: 'postgres', SHOP_PG_PORT: '5432', SHOP_PG_USER: 'debezium', SHOP_PG_PASSWORD: 'pw', SHOP_PG_DATABASE: 'shop', SHOP_TOPIC_REPLICATION_FACTOR: '3' };
    const def = await loadConnectorFile(DEFAULT_CONNECTOR_FILE, vars);
    assert.equal(def.name, 'shop-postgres');
    assert.equal(def.config['database.hostname'], 'postgres');
    assert.equal(def.config['database.port'], '5432');
    assert.equal(def.config['database.password'], 'pw');
    assert.equal(def.config['topic.creation.default.replication.factor'], '3', 'a production cluster gets 3 replicas of the shop topics');
    assert.ok(Object.values(def.config).every((v) => !v.includes('${')), 'no placeholder left');
  });

  it('captures exactly the synced tables through the migrations\' publication, with exact money', async () => {
    const { config } = await loadConnectorFile(DEFAULT_CONNECTOR_FILE, connectorVarsFromEnv({}));
    assert.deepEqual(config['table.include.list']!.split(','), SYNCED_TABLES.map((t) => `public.${t}`));
    assert.equal(config['plugin.name'], 'pgoutput');
    assert.equal(config['publication.name'], PUBLICATION_NAME);
    assert.equal(config['publication.autocreate.mode'], 'disabled');
    assert.equal(config['slot.name'], 'shopforce_slot');
    assert.equal(config['topic.prefix'], 'shop');
    assert.equal(config['decimal.handling.mode'], 'string');
    assert.equal(config['provide.transaction.metadata'], 'true');
  });

  it('lets a shop row as large as the pipeline\'s topics take through Debezium\'s producer and into the shop topics', async () => {
    const { config } = await loadConnectorFile(DEFAULT_CONNECTOR_FILE, connectorVarsFromEnv({}));
    assert.equal(config['producer.override.max.request.size'], String(MAX_MESSAGE_BYTES));
    assert.equal(config['topic.creation.default.max.message.bytes'], String(MAX_MESSAGE_BYTES));
  });

  it('defaults the placeholders to the native stack, and SHOP_* environment variables win', () => {
    assert.deepEqual(
      { ...connectorVarsFromEnv({}) },
      { SHOP_PG_HOST: '127.0.0.1', SHOP_PG_PORT: '55432', SHOP_PG_USER: 'debezium', SHOP_PG_PASSWORD: 'debezium', SHOP_PG_DATABASE: 'shop', SHOP_TOPIC_REPLICATION_FACTOR: '1' },
    );
    const vars = connectorVarsFromEnv({ SHOPFORCE_PG_PORT: '6543', SHOP_PG_HOST: 'db.internal' });
    assert.equal(vars.SHOP_PG_PORT, '6543');
    assert.equal(vars.SHOP_PG_HOST, 'db.internal');
  });
});

describe('connector definition files', () => {
  it('names every missing placeholder at once', () => {
    const def = parseConnectorDefinition({ name: 'x', config: { 'connector.class': 'C', a: '${ONE}', b: '${TWO}:${ONE}' } }, 'x.json');
    assert.deepEqual(placeholdersOf(def), ['ONE', 'TWO']);
    assert.throws(() => substitutePlaceholders(def, {}, 'x.json'), /x\.json: no value for placeholders \$\{ONE\}, \$\{TWO\}/);
    assert.equal(substitutePlaceholders(def, { ONE: '1', TWO: '2' }).config.b, '2:1');
  });

  it('leaves Kafka Connect config-provider references alone', () => {
    const def = parseConnectorDefinition({ name: 'x', config: { 'connector.class': 'C', p: '${file:/secrets/db.properties:password}', q: '${env:PGPASS}' } }, 'x.json');
    assert.deepEqual(placeholdersOf(def), []);
    assert.equal(substitutePlaceholders(def, {}).config.p, '${file:/secrets/db.properties:password}');
  });

  it('turns numbers and booleans into the strings Connect expects, and rejects a file without connector.class', async () => {
    const def = parseConnectorDefinition({ name: 'x', config: { 'connector.class': 'C', 'tasks.max': 1, flag: true } }, 'x.json');
    assert.deepEqual(def.config, { 'connector.class': 'C', 'tasks.max': '1', flag: 'true' });
    const dir = await mkdtemp(path.join(tmpdir(), 'shopforce-connector-'));
    try {
      const file = path.join(dir, 'bad.json');
      await writeFile(file, JSON.stringify({ name: 'bad', config: { 'tasks.max': '1' } }));
      await assert.rejects(loadConnectorFile(file, {}), /bad\.json is not a connector definition: config: config must name its connector\.class/);
      await writeFile(file, '{ not json');
      await assert.rejects(loadConnectorFile(file, {}), /cannot read connector file .*bad\.json/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
