import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { renderConfigDocs } from '../../src/config/docs.ts';
import { ConfigError, loadConfig, parseConfigText } from '../../src/config/load.ts';
import { missingParts } from '../../src/entities/definition.ts';
import { ENTITIES } from '../../src/entities/index.ts';

const root = join(import.meta.dirname, '../..');
const sandboxEnv = {
  SF_LOGIN_URL: 'https://127.0.0.1:58443', SF_CLIENT_ID: '3MVG9emulator', SF_USERNAME: 'integration@shopforce.sandbox',
  SF_PRIVATE_KEY_PATH: '/tmp/sandbox/jwt.key', SF_PUBSUB_ENDPOINT: '127.0.0.1:58444',
};
const tmp = mkdtempSync(join(tmpdir(), 'shopforce-config-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const minimal = `
kafka: { brokers: ["127.0.0.1:59092"] }
registry: { url: "http://127.0.0.1:58081" }
shop: { databaseUrl: "\${SHOP_DATABASE_URL}" }
salesforce: { loginUrl: "https://login.salesforce.com", authType: client_credentials, clientId: abc, clientSecret: "\${SF_CLIENT_SECRET}" }
`;
const minimalEnv = { SHOP_DATABASE_URL: 'postgres://u:p@127.0.0.1:55432/shop', SF_CLIENT_SECRET: 's3cret' };

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err.issues.map((i) => `${i.path}: ${i.message}`);
  }
  assert.fail('expected the configuration to be rejected');
}

test('the sandbox example loads with the sandbox environment: every flow on, the catalogue loaded at the first start', () => {
  const cfg = loadConfig(join(root, 'examples/shopforce.sandbox.yaml'), sandboxEnv);
  assert.equal(cfg.salesforce.loginUrl, 'https://127.0.0.1:58443');
  assert.equal(cfg.salesforce.authType, 'jwt');
  assert.equal(cfg.salesforce.source.pubsubEndpoint, '127.0.0.1:58444');
  assert.equal(cfg.shop.databaseUrl, 'postgres://shopforce:shopforce@127.0.0.1:55432/shop');
  assert.deepEqual(Object.entries(cfg.entities).filter(([, e]) => e.enabled).map(([n]) => n), ['customer', 'order', 'product', 'stock', 'payment', 'invoice', 'support_ticket', 'campaign_segment']);
  assert.deepEqual(cfg.entities.support_ticket.fieldMasters, { status: 'salesforce' });
  assert.deepEqual(cfg.backfill.initialLoad, ['product']);
  assert.equal(cfg.entities.product.master, 'salesforce');
  assert.equal(cfg.entities.stock.windowMs, 10_000, 'a short stock window, so the demo shows stock moving');
  assert.deepEqual(cfg.entities.customer.fieldMasters, { creditStatus: 'salesforce' });
  assert.equal(cfg.sink.batchSize, 200);
});

test('defaults fill everything not given; JSON files work too', () => {
  const file = join(tmp, 'c.json');
  writeFileSync(file, JSON.stringify({
    kafka: { brokers: ['k:9092'] }, registry: { url: 'http://r:8081' }, shop: { databaseUrl: '${DB}' },
    salesforce: { loginUrl: 'https://test.salesforce.com', authType: 'password', clientId: 'c', username: 'u', password: '${PW}' },
  }));
  const cfg = loadConfig(file, { DB: 'postgresql://x/y', PW: 'pw' });
  assert.equal(cfg.entities.order.stageMap.paid, 'Closed Won');
  assert.equal(cfg.entities.stock.windowMs, 300_000);
  assert.equal(cfg.sink.lingerMs, 200);
  assert.equal(cfg.salesforce.password, 'pw');
});

test('a bad field is reported by its dotted path and reason, every bad field at once', () => {
  const text = `${minimal}
sink: { batchSize: 500 }
kafka2: true
entities:
  customer: { master: nobody }
  order:
    fields:
      - { canonical: grandTotal, salesforce: Opportunity.Amount }
      - { canonical: total, salesforce: Amount }
`;
  const issues = issuesOf(() => parseConfigText(text, minimalEnv, 'bad.yaml'));
  const paths = issues.map((i) => i.split(':')[0]);
  assert.ok(paths.includes('sink.batchSize'), issues.join('\n'));
  assert.ok(paths.includes('kafka2'), issues.join('\n'));
  assert.ok(paths.includes('entities.customer.master'), issues.join('\n'));
  assert.ok(issues.some((i) => i.startsWith('entities.order.fields.0.canonical: "grandTotal" is not a mappable order field')), issues.join('\n'));
  assert.ok(issues.some((i) => i.startsWith('entities.order.fields.1.salesforce: must be Object.Field')), issues.join('\n'));
  assert.ok(issues.some((i) => i === 'kafka2: unknown field'));
});

test('the error message lists each issue on its own line with the file name', () => {
  try {
    parseConfigText(minimal.replace('127.0.0.1:59092', 'no-port'), minimalEnv, 'x.yaml');
    assert.fail('should throw');
  } catch (err) {
    assert.match((err as Error).message, /^invalid configuration \(x\.yaml\):\n {2}- kafka\.brokers\.0: must be host:port/);
  }
});

test('a missing ${ENV} variable is named, with the field that needs it', () => {
  const issues = issuesOf(() => parseConfigText(minimal, { SHOP_DATABASE_URL: 'postgres://x/y' }));
  assert.deepEqual(issues, ['salesforce.clientSecret: environment variable SF_CLIENT_SECRET is not set']);
  const withDefault = parseConfigText(minimal.replace('${SF_CLIENT_SECRET}', '${SF_CLIENT_SECRET:-fallback}'), { SHOP_DATABASE_URL: 'postgres://x/y' });
  assert.equal(withDefault.salesforce.clientSecret, 'fallback');
});

test('a secret written into the file is refused: it must come from the environment', () => {
  const issues = issuesOf(() => parseConfigText(minimal.replace('"${SHOP_DATABASE_URL}"', '"postgres://u:hunter2@db/shop"'), minimalEnv));
  assert.deepEqual(issues, ['shop.databaseUrl: is a secret: give it as a ${VAR} reference to the environment, not in the file']);
});

test('auth-type-specific fields are required by auth type', () => {
  const issues = issuesOf(() => parseConfigText(minimal.replace('authType: client_credentials', 'authType: jwt'), minimalEnv));
  assert.deepEqual(issues.sort(), ['salesforce.privateKeyPath: required when authType is jwt', 'salesforce.username: required when authType is jwt']);
});

test('per-field masters must name real fields; "both" only where the entity has a delta field', () => {
  const issues = issuesOf(() => parseConfigText(`${minimal}
entities:
  customer: { fieldMasters: { creditScore: salesforce } }
  product: { master: both }
  stock: { master: shop }
`, minimalEnv));
  assert.ok(issues.some((i) => i.startsWith('entities.customer.fieldMasters.creditScore: unknown customer field')), issues.join('\n'));
  assert.ok(issues.includes('entities.product.master: master "both" (delta merge) needs a delta field; product has none'), issues.join('\n'));
  assert.ok(issues.includes('entities.stock.master: stock is owned by both sides (delta merge): master must be "both"'), issues.join('\n'));
});

test('every registered entity is complete; a definition still missing its parts names what it lacks', () => {
  for (const d of ENTITIES) assert.deepEqual(missingParts(d as any, { enabled: true, master: 'shop' } as any), [], d.name);
  const bare = { name: 'loyalty_points', config: ENTITIES[0]!.config } as any;
  assert.deepEqual(missingParts(bare, { enabled: true, master: 'both' } as any),
    ['its parts on each side (flow)', 'its mappings', 'its field mappings', 'a delta field (policy hook) for master "both"']);
});

test('the initial load names enabled entities of which Salesforce masters a field', () => {
  const issues = issuesOf(() => parseConfigText(`${minimal}
backfill: { initialLoad: [product, order, customer, parcel] }
entities:
  order: { enabled: true }
  customer: { enabled: true }
`, minimalEnv));
  assert.deepEqual(issues.map((i) => i.replace(/; .*$/, '')), [
    'backfill.initialLoad.3: Invalid option: expected one of "customer"|"order"|"product"|"stock"|"payment"|"invoice"|"support_ticket"|"campaign_segment"',
  ]);
  const semantic = issuesOf(() => parseConfigText(`${minimal}
backfill: { initialLoad: [product, order, customer] }
entities:
  order: { enabled: true }
  customer: { enabled: true }
`, minimalEnv));
  assert.deepEqual(semantic, [
    'backfill.initialLoad.0: the product flow is not enabled (entities.product.enabled)',
    'backfill.initialLoad.1: Salesforce masters no field of order: there is nothing to load from the org into the shop',
  ], 'customer is allowed: Salesforce masters its credit status');
});

test('a stock window is 0 (real time) to 15 minutes', () => {
  const issues = issuesOf(() => parseConfigText(`${minimal}
entities:
  stock: { enabled: true, windowMs: 1000000 }
`, minimalEnv));
  assert.equal(issues.length, 1);
  assert.match(issues[0]!, /^entities\.stock\.windowMs: /);
});

test('an unreadable or unparsable file is a ConfigError too', () => {
  assert.match(issuesOf(() => loadConfig(join(tmp, 'missing.yaml'), {}))[0], /cannot read the file/);
  const file = join(tmp, 'broken.yaml');
  writeFileSync(file, 'kafka: [unclosed\n');
  assert.match(issuesOf(() => loadConfig(file, {}))[0], /not valid YAML/);
});

test('the configuration docs list every field with type and default, and docs/configuration.md is up to date', () => {
  const md = renderConfigDocs();
  for (const path of ['kafka.brokers', 'salesforce.authType', 'sink.bulkThreshold', 'sink.quotaReservePercent', 'entities.stock.windowMs',
    'entities.order.stageMap', 'entities.customer.fieldMasters', 'entities.product.fields[].transform']) {
    assert.ok(md.includes(`| \`${path}\` |`), `docs mention ${path}`);
  }
  assert.match(md, /\| `sink\.batchSize` \| integer \(1\.\.200\) \| {2}\| `200` \|/);
  assert.equal(readFileSync(join(root, 'docs/configuration.md'), 'utf8'), md, 'run: node --import tsx src/config/write-docs.ts');
});

test('the production example validates with its environment', () => {
  const cfg = loadConfig(join(root, 'examples/shopforce.production.yaml'), {
    SCHEMA_REGISTRY_URL: 'https://registry.internal', SHOP_DATABASE_URL: 'postgres://shopforce:x@db/shop',
    KAFKA_PASSWORD: 'k', SCHEMA_REGISTRY_USER: 'shopforce', SCHEMA_REGISTRY_PASSWORD: 'r',
    SF_CLIENT_ID: 'id', SF_USERNAME: 'integration@acme.com', SF_PRIVATE_KEY_PATH: '/etc/shopforce/jwt.key',
    SLACK_ALERTS_WEBHOOK_URL: 'https://hooks.slack.com/services/T0/B0/x', ALERTS_WEBHOOK_URL: 'https://incidents.acme.com/hook', ALERTS_WEBHOOK_AUTHORIZATION: 'Bearer t',
  });
  assert.equal(cfg.entities.stock.windowMs, 600_000);
  assert.deepEqual(cfg.observability.alerts.webhooks.map((w) => [w.name, w.format]), [['ops-slack', 'slack'], ['incident-tool', 'json']]);
  assert.equal(cfg.observability.accessToken, undefined, 'no token unless SHOPFORCE_METRICS_TOKEN is set');
  assert.equal(cfg.entities.order.deletePolicy, 'ignore');
  assert.equal(cfg.kafka.brokers.length, 3);
});
