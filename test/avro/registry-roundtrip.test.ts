import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { loadCanonicalSchemas, type CanonicalSchema } from '../../src/avro/catalog.ts';
import { SchemaCatalogClient, SchemaRejectedError } from '../../src/avro/registry.ts';
import { getTestStack } from '../support/stack.ts';

// The canonical schemas go through the real registry: registered with BACKWARD compatibility,
// every one round-trips a value, and a breaking change is refused with the registry's reason.
describe('canonical Avro schemas in the schema registry', () => {
  let client: SchemaCatalogClient;
  const schemas = loadCanonicalSchemas();
  const run = randomUUID().slice(0, 8);
  // a per-run subject so repeated runs do not collide with earlier versions
  const scoped = (s: CanonicalSchema) => ({ ...s, subject: `test-${run}.${s.subject}` });

  before(async () => {
    client = new SchemaCatalogClient((await getTestStack()).registry.url);
  });

  test('there is one schema per entity of the design, plus commands, DLQ and audit', () => {
    const topics = schemas.map((s) => s.topic).sort();
    for (const entity of ['customer', 'order', 'product', 'stock', 'payment', 'invoice', 'support_ticket', 'campaign_segment']) {
      assert.ok(topics.includes(`sync.${entity}`), `schemas/${entity}.avsc for sync.${entity}`);
    }
    for (const topic of ['sync.out.salesforce', 'sync.out.shop', 'sync.dlq', 'sync.audit']) assert.ok(topics.includes(topic), topic);
  });

  for (const schema of schemas) {
    test(`${schema.name}: registers and round-trips a value through the registry`, async () => {
      const id = await client.register(scoped(schema));
      assert.ok(id > 0);
      const value = schema.type.random();
      const encoded = await client.encode(`test-${run}.${schema.subject}`, value);
      assert.equal(encoded[0], 0, 'Confluent wire format: magic byte 0');
      assert.equal(encoded.readInt32BE(1), id, 'Confluent wire format: schema id');
      const decoded = await new SchemaCatalogClient(client.url).decode(encoded);
      // same Avro binary after the trip: every field, union branch and map entry survived
      assert.deepEqual(schema.type.toBuffer(decoded), schema.type.toBuffer(value));
      assert.ok(schema.type.isValid(decoded));
    });
  }

  test('encoding writes the bytes the registry library writes, for small and large values, and refuses an invalid value with its error', async () => {
    const audit = scoped(schemas.find((s) => s.name === 'audit')!);
    const id = await client.register(audit);
    for (let i = 0; i < 20; i++) {
      const value = audit.type.random() as unknown as Record<string, unknown>;
      // every fifth value far larger than the encoder's first buffer
      if (i % 5 === 0) value.message = 'm'.repeat(40_000 * (i / 5 + 1));
      assert.deepEqual(await client.encode(audit.subject, value), await client.registry.encode(id, value));
    }
    const invalid = { ...(audit.type.random() as unknown as Record<string, unknown>), eventTime: 'not a number' };
    const mine = await client.encode(audit.subject, invalid).then(() => undefined, (err: Error) => err);
    const theirs = await client.registry.encode(id, invalid).then(() => undefined, (err: Error) => err);
    assert.ok(mine && theirs, 'an invalid value is refused');
    assert.equal(mine.message, theirs.message);
    assert.equal(mine.constructor, theirs.constructor);
  });

  test('a backward-incompatible change is rejected with the registry error; a compatible one is accepted', async () => {
    const order = scoped(schemas.find((s) => s.name === 'order')!);
    await client.register(order);
    const fields = (order.schema as any).fields as any[];
    const breaking = { ...(order.schema as object), fields: [...fields, { name: 'mandatoryNewField', type: 'string' }] };
    await assert.rejects(client.register({ subject: order.subject, schema: breaking as any }), (err: unknown) => {
      assert.ok(err instanceof SchemaRejectedError);
      assert.equal(err.status, 409);
      assert.match(err.message, /Incompatible/i);
      assert.match(err.message, new RegExp(order.subject.replace(/\./g, '\\.')));
      return true;
    });
    const compatible = { ...(order.schema as object), fields: [...fields, { name: 'optionalNewField', type: ['null', 'string'], default: null }] };
    const id = await client.register({ subject: order.subject, schema: compatible as any });
    assert.ok(id > 0);
  });
});
