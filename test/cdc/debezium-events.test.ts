import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { getTestStack } from '../support/stack.ts';
import { collectMessages, collectThroughSentinel, topicEnds, type CollectedMessage } from '../support/kafka.ts';
import type { StackAddresses } from '../../src/stack/stack.ts';

// Rows written to the shop database by the application role come out of Debezium on
// shop.public.<table> as change events: op c/u/d with before/after/source, money exact.
describe('Debezium CDC from the shop database', () => {
  let stack: StackAddresses;
  let db: pg.Client;
  const run = randomUUID().slice(0, 8);
  const sku = `CDC-${run}`;
  const customerNumber = `C-CDC-${run}`;

  before(async () => {
    stack = await getTestStack();
    db = new pg.Client({ connectionString: stack.postgres.url });
    await db.connect();
  });
  after(async () => {
    await db?.end();
  });

  test('insert, update and delete of a product arrive in order with exact money', async () => {
    const from = await topicEnds(stack.kafka.brokers, ['shop.public.products']);
    await db.query(`insert into products (sku, name, price, currency) values ($1, 'CDC probe', 19.99, 'EUR')`, [sku]);
    await db.query(`update products set price = 1234567890.01 where sku = $1`, [sku]);
    await db.query(`delete from products where sku = $1`, [sku]);

    // read on past the row's tombstone (its key, written after the delete): a repeated event would be seen
    let key: string | null = null;
    const { messages: events } = await collectThroughSentinel(stack.kafka.brokers, ['shop.public.products'], {
      match: (m) => {
        const ours = m.value !== null && (m.value.after?.sku === sku || m.value.before?.sku === sku);
        if (ours) key ??= m.key;
        return ours;
      },
      sentinel: (m) => m.value === null && key !== null && m.key === key,
      from, timeoutMs: 60_000,
    });
    assert.deepEqual(events.map((e) => e.value.op), ['c', 'u', 'd'], 'each change once, in order, nothing more');
    const [created, updated, deleted] = events as [CollectedMessage, CollectedMessage, CollectedMessage];

    assert.equal(created.value.before, null);
    assert.equal(created.value.after.price, '19.99', 'numeric(12,2) arrives as an exact decimal string');
    assert.equal(created.value.after.currency, 'EUR');
    assert.equal(created.value.source.table, 'products');
    assert.equal(created.value.source.db, 'shop');
    assert.equal(typeof created.value.source.lsn, 'number');
    assert.equal(typeof created.value.source.txId, 'number');

    assert.equal(updated.value.before.price, '19.99', 'REPLICA IDENTITY FULL gives the before image');
    assert.equal(updated.value.after.price, '1234567890.01');
    assert.ok(Number(updated.value.after.version) > Number(created.value.after.version), 'the row version moves on update');
    assert.ok(updated.value.source.lsn > created.value.source.lsn, 'source positions increase');

    assert.equal(deleted.value.after, null);
    assert.equal(deleted.value.before.sku, sku);
    // all three events of one row share its key, so they land on one partition in order
    assert.equal(new Set(events.map((e) => e.partition)).size, 1);
    assert.ok(created.key?.includes(String(created.value.after.id)));
  });

  test('a customer and its address written in one transaction share the transaction id', async () => {
    // the shared shop's topics are long: read from where they end now, not from their beginning
    const from = await topicEnds(stack.kafka.brokers, ['shop.public.customers', 'shop.public.addresses']);
    await db.query('begin');
    await db.query(
      `insert into customers (customer_number, email, first_name, last_name) values ($1, $2, 'Ada', 'Lovelace')`,
      [customerNumber, `ada.${run}@example.com`],
    );
    await db.query(
      `insert into addresses (customer_number, address_type, line1, city, postal_code, country) values ($1, 'billing', '1 Analytical St', 'London', 'N1 1AA', 'GB')`,
      [customerNumber],
    );
    await db.query('commit');
    // a later change of both rows (same keys, same partitions): read on past it, so a repeated insert is seen
    await db.query('begin');
    await db.query(`update customers set first_name = 'Sentinel' where customer_number = $1`, [customerNumber]);
    await db.query(`update addresses set line1 = 'Sentinel' where customer_number = $1`, [customerNumber]);
    await db.query('commit');

    const { messages: events } = await collectThroughSentinel(stack.kafka.brokers, ['shop.public.customers', 'shop.public.addresses'], {
      match: (m) => m.value?.after?.customer_number === customerNumber,
      sentinel: (m) => m.value?.after?.customer_number === customerNumber && m.value.op === 'u',
      count: 2, from,
      timeoutMs: 60_000,
    });
    assert.deepEqual(events.map((e) => [e.topic, e.value.op]).sort(), [['shop.public.addresses', 'c'], ['shop.public.customers', 'c']], 'one insert event per row, nothing more');
    const customer = events.find((e) => e.topic === 'shop.public.customers')!;
    const address = events.find((e) => e.topic === 'shop.public.addresses')!;
    assert.equal(customer.value.after.email, `ada.${run}@example.com`);
    assert.equal(customer.value.after.marketing_opt_in, false);
    assert.equal(address.value.after.country, 'GB');
    assert.equal(customer.value.source.txId, address.value.source.txId);
    // provide.transaction.metadata: each event names its transaction ("<txId>:<lsn>"), and the
    // shop.transaction topic closes it with an END record that counts both events
    const txId = String(customer.value.source.txId);
    assert.equal(customer.value.transaction.id.split(':')[0], txId);
    assert.equal(address.value.transaction.id.split(':')[0], txId);
    const [end] = await collectMessages(stack.kafka.brokers, ['shop.transaction'], {
      match: (m) => m.value?.status === 'END' && String(m.value.id).split(':')[0] === txId,
      until: (all) => all.length >= 1,
      timeoutMs: 60_000,
    });
    assert.equal(end?.value.event_count, 2);
    assert.deepEqual(end?.value.data_collections.map((d: any) => d.data_collection).sort(), ['public.addresses', 'public.customers']);
  });
});
