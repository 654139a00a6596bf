import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addMoney } from '../../src/entities/money.ts';
import { applyLineRow, createOrderMapping } from '../../src/entities/order/mapping.ts';
import { asStored, ctx, entities } from './helpers.ts';

const mapping = createOrderMapping(entities.order, 'shop-1');
const orderRow = {
  shop_id: 'shop-1', order_number: '1042', customer_number: 'C-1001', status: 'paid', currency: 'EUR',
  subtotal_amount: '59.97', discount_amount: '0.00', shipping_amount: '4.99', tax_amount: '0.00', total_amount: '64.96',
  placed_at: '2026-11-27T06:00:00.000000Z', created_at: '2026-11-27T06:00:00Z', updated_at: '2026-11-27T06:00:01Z', version: 1,
};
const line = (n: number, sku: string, price: string) => ({
  shop_id: 'shop-1', order_number: '1042', line_number: n, sku, product_name: `Product ${sku}`, quantity: 1,
  unit_price: price, discount_amount: '0.00', line_total: price, currency: 'EUR',
});
const lines = [line(2, 'SKU-2', '19.99'), line(1, 'SKU-1', '19.99'), line(3, 'SKU-3', '19.99')];

test('an order with three lines -> one Opportunity then three line items, stage from status, exact amount', () => {
  const o = mapping.fromShopRow({ order: orderRow, lines });
  assert.deepEqual(o.lines.map((l) => l.lineId), ['1042-1', '1042-2', '1042-3']);
  assert.equal(o.lines.reduce((sum, l) => addMoney(sum, l.lineTotal), '0'), o.subtotal);
  const writes = mapping.toSalesforce(o, ctx, 'UPSERT');
  assert.deepEqual(writes.map((w) => w.sobject), ['Opportunity', 'OpportunityLineItem', 'OpportunityLineItem', 'OpportunityLineItem']);
  const opp = writes[0];
  assert.equal(opp.externalIdField, 'Shop_Order_Id__c');
  assert.equal(opp.externalId, 'shop-1|1042', 'the external id carries the shop');
  assert.equal(opp.fields.StageName, 'Closed Won');
  assert.equal(opp.fields.Amount, '64.96');
  assert.ok(opp.decimalFields.includes('Amount'));
  assert.equal(opp.fields.CloseDate, '2026-11-27');
  assert.equal(opp.fields.Name, 'Order 1042');
  assert.deepEqual(opp.references[0], { field: 'AccountId', relationshipName: 'Account', sobject: 'Account', externalIdField: 'Shop_Customer_Id__c', externalId: 'shop-1|C-1001' });
  assert.deepEqual(opp.parentKeys, ['shop-1|C-1001']);
  const li = writes[1];
  assert.equal(li.externalId, 'shop-1|1042|1');
  assert.equal(li.fields.UnitPrice, '19.99');
  assert.equal(li.fields.Quantity, 1);
  assert.deepEqual(li.pricebookEntry, { field: 'PricebookEntryId', sku: 'SKU-1', currency: 'EUR', pricebook: 'standard' });
  assert.equal(li.references[0].externalId, 'shop-1|1042');
  assert.equal(new Set(writes.map((w) => w.commandId)).size, 4);
});

test('status changes move the stage; unknown statuses get the default stage', () => {
  const o = mapping.fromShopRow({ order: orderRow, lines });
  assert.equal(mapping.toSalesforce({ ...o, status: 'cancelled' }, ctx, 'UPSERT')[0].fields.StageName, 'Closed Lost');
  assert.equal(mapping.toSalesforce({ ...o, status: 'pending' }, ctx, 'UPSERT')[0].fields.StageName, 'Prospecting');
  assert.equal(mapping.toSalesforce({ ...o, status: 'on_hold' }, ctx, 'UPSERT')[0].fields.StageName, 'Prospecting');
});

test('the Opportunity and its line items read back into the same canonical order', () => {
  const o = mapping.fromShopRow({ order: orderRow, lines });
  const writes = mapping.toSalesforce(o, ctx, 'UPSERT');
  const back = mapping.fromSalesforce({ Opportunity: asStored(writes[0]), lineItems: writes.slice(1).map(asStored) }, o);
  assert.deepEqual(back, o);
});

test('a line removed from the order deletes its line item; a deleted order deletes the Opportunity', () => {
  const before = mapping.fromShopRow({ order: orderRow, lines });
  const after = applyLineRow(before, line(3, 'SKU-3', '19.99'), true);
  assert.equal(after.lines.length, 2);
  const writes = mapping.toSalesforce(after, ctx, 'UPSERT', { previous: before });
  const deletes = writes.filter((w) => w.operation === 'DELETE');
  // each delete keeps its lookup of its parent: the sink orders deletes by it, children first
  const lookups = (w: (typeof writes)[number]) => w.references.map((r) => `${r.sobject}:${r.externalId}`).join(',');
  assert.deepEqual(deletes.map((w) => `${w.sobject}:${w.externalId} <- ${lookups(w)}`), ['OpportunityLineItem:shop-1|1042|3 <- Opportunity:shop-1|1042']);
  const del = mapping.toSalesforce(after, ctx, 'DELETE');
  assert.deepEqual(del.map((w) => `${w.operation} ${w.sobject}:${w.externalId} <- ${lookups(w)}`), ['DELETE Opportunity:shop-1|1042 <- Account:shop-1|C-1001']);
  assert.deepEqual([...deletes, ...del].map((w) => [Object.keys(w.fields).length, w.pricebookEntry]), [[0, null], [0, null]], 'a delete writes no field and resolves no price');
});

test('an order written to the shop keeps its money exact and its lines keyed by line number', () => {
  const o = mapping.fromShopRow({ order: orderRow, lines });
  const rows = mapping.toShop(o, ctx, 'UPSERT');
  assert.equal(rows[0].table, 'orders');
  assert.equal(rows[0].row.total_amount, '64.96');
  assert.equal(rows[0].row.updated_at, undefined, 'the shop owns its bookkeeping columns');
  assert.deepEqual(rows.slice(1).map((r) => r.row.line_number), [1, 2, 3]);
  const again = mapping.fromShopRow({ order: { ...orderRow, ...rows[0].row }, lines: rows.slice(1).map((r) => r.row) });
  assert.deepEqual(again, o);
});
