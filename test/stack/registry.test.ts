import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import type { StackContext } from '../../src/stack/component.ts';
import { createStackContext } from '../../src/stack/context.ts';
import { postgres } from '../../src/stack/components/postgres.ts';
import { registry, registryUrl } from '../../src/stack/components/registry.ts';
import { portOpen } from '../../src/stack/process.ts';

/** A port nobody listens on right now (the OS picks it), so this test can run beside a running stack. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const customerV1 = {
  type: 'record',
  name: 'Customer',
  namespace: 'test.shopforce.registry',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'email', type: 'string' },
    { name: 'balance', type: { type: 'bytes', logicalType: 'decimal', precision: 12, scale: 2 } },
  ],
};
const SUBJECT = 'test.shopforce.registry.Customer';

async function setCompatibility(ctx: StackContext, subject: string, level: string): Promise<unknown> {
  const res = await fetch(`${registryUrl(ctx)}/config/${encodeURIComponent(subject)}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ compatibility: level }),
  });
  assert.equal(res.status, 200, `PUT /config/${subject} answered ${res.status}: ${await res.clone().text()}`);
  return res.json();
}

describe('schema registry (Apicurio, Confluent API) started by the stack component', () => {
  let ctx: StackContext;
  let stateDir: string;

  before(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'shopforce-registry-'));
    chmodSync(stateDir, 0o755); // as root, PostgreSQL runs as `postgres`, which must enter this folder
    ctx = createStackContext({ stateDir, quiet: true });
    ctx.ports = { ...ctx.ports, postgres: await freePort(), registry: await freePort() };
    await postgres.start(ctx);
    await registry.prepare(ctx);
    await registry.start(ctx);
  });

  after(async () => {
    if (ctx) {
      await registry.stop(ctx);
      await postgres.stop(ctx);
    }
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  it('reports itself healthy at its Confluent-compatible URL', async () => {
    const status = await registry.status(ctx);
    assert.equal(status.healthy, true);
    assert.equal(status.address, `http://127.0.0.1:${ctx.ports.registry}/apis/ccompat/v7`);
    assert.ok(status.pid, 'the status names the registry process');
    assert.ok(existsSync(registry.logFile(ctx)), 'the registry writes its log under the state folder');
  });

  it('registers an Avro schema and round-trips a record through the Confluent wire format', async () => {
    const client = new SchemaRegistry({ host: registryUrl(ctx) });
    const { id } = await client.register({ type: SchemaType.AVRO, schema: JSON.stringify(customerV1) }, { subject: SUBJECT });
    assert.ok(Number.isInteger(id) && id > 0, `the registry answers a schema id (got ${id})`);

    const record = { id: 42, email: 'ada@example.com', balance: Buffer.from([0x30, 0x39]) }; // 123.45
    const encoded = await client.encode(id, record);
    assert.equal(encoded[0], 0, 'Confluent magic byte');
    assert.equal(encoded.readInt32BE(1), id, 'the schema id travels in the message');

    // a fresh client knows nothing: it must fetch the schema by id from the registry to decode
    const reader = new SchemaRegistry({ host: registryUrl(ctx) });
    const decoded = await reader.decode(encoded);
    assert.equal(decoded.id, 42);
    assert.equal(decoded.email, 'ada@example.com');
    assert.deepEqual([...decoded.balance], [0x30, 0x39]);
  });

  it('under BACKWARD compatibility rejects a new field without a default, with the registry error', async () => {
    assert.deepEqual(await setCompatibility(ctx, SUBJECT, 'BACKWARD'), { compatibilityLevel: 'BACKWARD' });
    const client = new SchemaRegistry({ host: registryUrl(ctx) });
    const breaking = { ...customerV1, fields: [...customerV1.fields, { name: 'loyaltyTier', type: 'string' }] };

    const check = await fetch(`${registryUrl(ctx)}/compatibility/subjects/${SUBJECT}/versions/latest`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema: JSON.stringify(breaking) }),
    });
    assert.deepEqual(await check.json(), { is_compatible: false });

    await assert.rejects(
      client.register({ type: SchemaType.AVRO, schema: JSON.stringify(breaking) }, { subject: SUBJECT, compatibility: COMPATIBILITY.BACKWARD }),
      (err: Error & { status?: number }) => {
        assert.equal(err.status, 409, `expected 409 Conflict, got ${err.status}: ${err.message}`);
        assert.match(err.message, /Incompatible artifact/);
        assert.match(err.message, /loyaltyTier/);
        return true;
      },
    );

    // the same field with a default is a backward-compatible change and gets a new id
    const compatible = { ...customerV1, fields: [...customerV1.fields, { name: 'loyaltyTier', type: 'string', default: 'none' }] };
    const v1 = await client.getLatestSchemaId(SUBJECT);
    const { id: v2 } = await client.register({ type: SchemaType.AVRO, schema: JSON.stringify(compatible) }, { subject: SUBJECT, compatibility: COMPATIBILITY.BACKWARD });
    assert.notEqual(v2, v1);
  });

  it('keeps schemas across a restart (stored in PostgreSQL) and stops cleanly', async () => {
    const latest = await new SchemaRegistry({ host: registryUrl(ctx) }).getLatestSchemaId(SUBJECT);
    await registry.stop(ctx);
    assert.equal(await registry.health(ctx), false);
    assert.equal(await portOpen(ctx.ports.registry), false, 'the port is free after stop');
    assert.equal((await registry.status(ctx)).pid, undefined);

    await registry.start(ctx);
    const client = new SchemaRegistry({ host: registryUrl(ctx) });
    assert.equal(await client.getLatestSchemaId(SUBJECT), latest);
    const schema = await client.getSchema(latest);
    assert.ok(schema, 'the schema is served by id after the restart');
  });
});
