import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createProductMapping } from '../../src/entities/product/mapping.ts';
import { ctx, entities } from './helpers.ts';

const mapping = createProductMapping(entities.product, 'shop-1');
const product2 = { Id: '01t000000000001AAA', Name: 'Mug', Description: 'Blue mug', Family: 'Kitchen', IsActive: true, Sku__c: 'SKU-1', ProductCode: 'SKU-1' };
const entry = { Id: '01u000000000001AAA', UnitPrice: 19.99, IsActive: true, Currency__c: 'EUR', Product2Id: product2.Id };

test('Product2 + standard PricebookEntry -> canonical product -> shop products row', () => {
  const p = mapping.fromSalesforce({ Product2: product2, PricebookEntry: entry });
  assert.deepEqual({ sku: p.sku, name: p.name, price: p.price, currency: p.currency, active: p.active }, { sku: 'SKU-1', name: 'Mug', price: '19.99', currency: 'EUR', active: true });
  const [w] = mapping.toShop(p, ctx, 'UPSERT');
  assert.equal(w.table, 'products');
  assert.deepEqual(w.keyColumns, ['shop_id', 'sku']);
  assert.deepEqual(w.row, { shop_id: 'shop-1', sku: 'SKU-1', name: 'Mug', description: 'Blue mug', price: '19.99', currency: 'EUR', active: true });
});

test('the shop row of a product reads back into the same canonical product (round trip, price exact)', () => {
  const p = mapping.fromSalesforce({ Product2: product2, PricebookEntry: { ...entry, UnitPrice: 20 } });
  const [w] = mapping.toShop(p, ctx, 'UPSERT');
  const fromShop = mapping.fromShopRow({ ...w.row, price: '20.00', updated_at: null }, p);
  assert.deepEqual(fromShop, p);
});

test('an inactive entry or product makes the shop product inactive; a price change updates it', () => {
  assert.equal(mapping.fromSalesforce({ Product2: product2, PricebookEntry: { ...entry, IsActive: false } }).active, false);
  assert.equal(mapping.fromSalesforce({ Product2: { ...product2, IsActive: false }, PricebookEntry: entry }).active, false);
  const p = mapping.fromSalesforce({ Product2: product2, PricebookEntry: entry });
  const changed = mapping.fromSalesforce({ Product2: product2, PricebookEntry: { ...entry, UnitPrice: 24.5 } }, p);
  assert.equal(changed.price, '24.50');
});

test('a Product2 change without its entry keeps the known price; a product with no price yet leaves the shop price alone', () => {
  const p = mapping.fromSalesforce({ Product2: product2, PricebookEntry: entry });
  assert.equal(mapping.fromSalesforce({ Product2: { ...product2, Name: 'Big mug' } }, p).price, '19.99');
  const noPrice = mapping.fromSalesforce({ Product2: product2 });
  assert.equal(noPrice.price, null);
  assert.equal('price' in mapping.toShop(noPrice, ctx, 'UPSERT')[0].row, false);
});

test('accepting a shop price into Salesforce writes the entry of the configured price book', () => {
  const p = mapping.fromSalesforce({ Product2: product2, PricebookEntry: entry });
  const writes = mapping.toSalesforce({ ...p, price: '18.00' }, ctx, 'UPSERT', { fields: new Set(['price']) });
  const pbe = writes.find((w) => w.sobject === 'PricebookEntry');
  assert.ok(pbe);
  assert.equal(pbe.fields.UnitPrice, '18.00');
  assert.deepEqual(pbe.pricebookEntry, { field: 'Id', sku: 'SKU-1', currency: 'EUR', pricebook: 'standard' });
});
