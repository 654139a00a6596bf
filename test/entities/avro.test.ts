import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import avro from 'avsc';
import { createCustomerMapping } from '../../src/entities/customer/mapping.ts';
import { createInvoiceMapping } from '../../src/entities/invoice/mapping.ts';
import { createOrderMapping } from '../../src/entities/order/mapping.ts';
import { createPaymentMapping } from '../../src/entities/payment/mapping.ts';
import { createProductMapping } from '../../src/entities/product/mapping.ts';
import { createStockMapping } from '../../src/entities/stock/mapping.ts';
import type { CanonicalChange } from '../../src/entities/types.ts';
import { decisionAuditEvent } from '../../src/reconcile/audit.ts';
import { ctx, entities } from './helpers.ts';

const dir = join(import.meta.dirname, '../../schemas');
/** avsc decodes records into class instances; compare their plain data. */
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v));
const load = (name: string) => avro.Type.forSchema(JSON.parse(readFileSync(join(dir, `${name}.avsc`), 'utf8')));

const customer = createCustomerMapping(entities.customer, 'shop-1').fromShopRow({
  customer: { customer_number: 'C-1', email: 'a@b.io', first_name: 'A', last_name: 'B', marketing_opt_in: true, credit_status: null, created_at: '2026-11-27T06:00:00Z' },
  addresses: [{ address_type: 'billing', is_default: true, line1: 'Main 1', line2: null, city: 'Berlin', region: null, postal_code: '10115', country: 'DE' }],
});
const order = createOrderMapping(entities.order, 'shop-1').fromShopRow({
  order: { order_number: '1042', customer_number: 'C-1', status: 'paid', currency: 'EUR', subtotal_amount: '19.99', total_amount: '20.00', placed_at: 1_764_000_000_000 },
  lines: [{ order_number: '1042', line_number: 1, sku: 'SKU-1', product_name: 'Mug', quantity: 1, unit_price: '19.99', discount_amount: '0.00', line_total: '19.99' }],
});
const product = createProductMapping(entities.product, 'shop-1').fromSalesforce({ Product2: { Sku__c: 'SKU-1', Name: 'Mug', IsActive: true }, PricebookEntry: { UnitPrice: 19.99 } });
const stock = createStockMapping(entities.stock, 'shop-1').fromShopRow({ sku: 'SKU-1', warehouse_code: 'WH-1', quantity: 7 });
const payment = createPaymentMapping(entities.payment, 'shop-1').fromShopRow({
  provider_transaction_id: 'pi_1', provider: 'stripe', order_number: '1042', method: 'card', amount: '20.00', currency: 'EUR', status: 'captured', processed_at: '2026-11-27T06:00:00Z',
});
const invoice = createInvoiceMapping(entities.invoice, 'shop-1').fromSalesforce({
  Invoice_Number__c: 'INV-1', 'Opportunity__c.Shop_Order_Id__c': 'shop-1|1042', Amount__c: 20, Tax_Amount__c: 3.19, Paid_Amount__c: 20, Currency__c: 'EUR', Status__c: 'Paid',
  Issued_Date__c: '2026-11-27', Due_Date__c: '2026-12-27', Pdf_Url__c: null,
});

const samples: Record<string, object> = {
  customer, order, product, stock, payment, invoice,
  support_ticket: { ticketId: 'T-1', customerId: 'C-1', orderNumber: '1042', subject: 'Broken mug', description: null, status: 'open', priority: 'high', channel: 'email', createdAt: null, updatedAt: null, extra: {} },
  campaign_segment: { segmentId: 'S-1', name: 'VIP', description: null, active: true, members: [{ customerId: 'C-1', status: 'Sent' }], updatedAt: null, extra: { tier: 'gold' } },
};

test('every canonical schema parses with avsc and a real record round-trips through Avro binary', () => {
  for (const [entity, record] of Object.entries(samples)) {
    const type = load(entity);
    const change: CanonicalChange = {
      shopId: 'shop-1', entity, key: `shop-1|${entity}`, origin: 'SHOP', sourcePosition: 'lsn:1', transactionId: '1',
      eventTime: 1_764_000_000_000, op: 'UPSERT', sourceRecordId: '7', sourceVersion: 3, changeOrigin: null, record, knownFields: [],
    };
    assert.ok(type.isValid(change, { errorHook: (path) => assert.fail(`${entity}: invalid at ${path.join('.')}`) }), entity);
    assert.deepEqual(plain(type.fromBuffer(type.toBuffer(change))), plain(change), entity);
    const deleted = { ...change, op: 'DELETE', record: null };
    assert.deepEqual(plain(type.fromBuffer(type.toBuffer(deleted))), plain(deleted), `${entity} delete`);
  }
});

test('money survives Avro unchanged, to the cent', () => {
  const type = load('order');
  const change = { shopId: 'shop-1', entity: 'order', key: 'shop-1|1042', origin: 'SHOP', sourcePosition: 'lsn:1', transactionId: '1', eventTime: 0, op: 'UPSERT', sourceRecordId: null, sourceVersion: null, changeOrigin: null, record: order, knownFields: ['total'] };
  const back = type.fromBuffer(type.toBuffer(change)) as { record: typeof order };
  assert.equal(back.record.total, '20.00');
  assert.equal(back.record.lines[0].unitPrice, '19.99');
});

test('write commands, dead letters and audit events round-trip through their schemas', () => {
  const sfType = load('salesforce_write');
  for (const w of [
    ...createCustomerMapping(entities.customer, 'shop-1').toSalesforce(customer, ctx, 'UPSERT'),
    ...createOrderMapping(entities.order, 'shop-1').toSalesforce(order, ctx, 'UPSERT'),
  ]) assert.deepEqual(plain(sfType.fromBuffer(sfType.toBuffer(w))), plain(w));
  const shopType = load('shop_write');
  for (const w of [
    ...createProductMapping(entities.product, 'shop-1').toShop(product, ctx, 'UPSERT'),
    ...createOrderMapping(entities.order, 'shop-1').toShop(order, ctx, 'UPSERT'),
  ]) assert.deepEqual(plain(shopType.fromBuffer(shopType.toBuffer(w))), plain(w));
  const dlq = load('dlq');
  const letter = {
    id: 'shop.public.orders-0-42', processor: 'normalize', sourceTopic: 'shop.public.orders', sourcePartition: 0, sourceOffset: '42',
    key: Buffer.from('k'), value: Buffer.from('{"bad":'), headers: { 'content-type': 'json' }, errorClass: 'decode',
    reason: 'value is not JSON', details: null, attempts: 1, entity: 'order', entityKey: null, failedAt: 1_764_000_000_000,
  };
  assert.deepEqual(plain(dlq.fromBuffer(dlq.toBuffer(letter))), plain(letter));
  const audit = load('audit');
  const event = decisionAuditEvent({
    key: 'shop-1|1042', decision: 'conflict', origin: 'SALESFORCE', sourcePosition: 'replay:9', transactionId: 'tk', eventTime: 1,
    changedFields: ['total'], conflictFields: ['total'], policy: 'reassert-master', alert: true, writeIds: ['w1'], acknowledged: [], message: 'conflict on total',
  }, { shopId: 'shop-1', entity: 'order', processor: 'reconcile-0', at: 2 });
  assert.deepEqual(plain(audit.fromBuffer(audit.toBuffer(event))), plain(event));
});

test('every schema can read data written by itself with one more optional field (room to grow compatibly)', () => {
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.avsc'))) {
    const schema = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    const newer = { ...schema, fields: [...schema.fields, { name: 'futureField', type: ['null', 'string'], default: null }] };
    const reader = avro.Type.forSchema(newer);
    const writer = avro.Type.forSchema(schema);
    assert.doesNotThrow(() => reader.createResolver(writer), file);
    for (const f of schema.fields) {
      const optional = Array.isArray(f.type) && f.type[0] === 'null';
      if (optional) assert.ok('default' in f, `${file}: optional field ${f.name} needs a default`);
    }
  }
});
