import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createOrderMapping } from '../../src/entities/order/mapping.ts';
import { paymentMismatch, paymentSummary } from '../../src/entities/order/payments.ts';
import { createPaymentMapping } from '../../src/entities/payment/mapping.ts';
import { asStored, ctx, entities } from './helpers.ts';

const mapping = createPaymentMapping(entities.payment, 'shop-1');
const row = (over: Record<string, unknown> = {}) => ({
  id: 7, shop_id: 'shop-1', provider_transaction_id: 'pi_3Nx', provider: 'stripe', order_number: '1042', method: 'card',
  amount: '80.00', currency: 'EUR', status: 'captured', processed_at: '2026-11-27T06:00:00.123Z', updated_at: '2026-11-27T06:00:01Z', version: 1, ...over,
});

test('a shop payment -> one Payment__c by "<shop>|<provider>|<transaction id>", on the order\'s Opportunity', () => {
  const p = mapping.fromShopRow(row());
  assert.equal(mapping.key(p), 'shop-1|stripe|pi_3Nx');
  const [w, ...rest] = mapping.toSalesforce(p, ctx, 'UPSERT');
  assert.equal(rest.length, 0);
  assert.equal(w!.sobject, 'Payment__c');
  assert.equal(w!.externalIdField, 'Provider_Transaction_Id__c');
  assert.equal(w!.externalId, 'shop-1|stripe|pi_3Nx');
  assert.deepEqual(w!.fields, {
    Provider__c: 'stripe', Amount__c: '80.00', Currency__c: 'EUR', Status__c: 'Captured', Paid_At__c: '2026-11-27T06:00:00.123Z', Shop_Id__c: 'shop-1',
  });
  assert.deepEqual(w!.decimalFields, ['Amount__c']);
  assert.deepEqual(w!.references, [{ field: 'Opportunity__c', relationshipName: 'Opportunity__r', sobject: 'Opportunity', externalIdField: 'Shop_Order_Id__c', externalId: 'shop-1|1042' }]);
  assert.deepEqual(w!.parentKeys, ['shop-1|1042'], 'waits for the order in the sink');
});

test('the same transaction id at two providers, or in two shops, is two records', () => {
  const a = mapping.fromShopRow(row());
  const b = mapping.fromShopRow(row({ provider: 'adyen' }));
  const other = createPaymentMapping(entities.payment, 'shop-2').fromShopRow(row({ shop_id: 'shop-2' }));
  const ids = [a, b].map((p) => mapping.toSalesforce(p, ctx, 'UPSERT')[0]!.externalId).concat(createPaymentMapping(entities.payment, 'shop-2').toSalesforce(other, ctx, 'UPSERT')[0]!.externalId);
  assert.deepEqual(ids, ['shop-1|stripe|pi_3Nx', 'shop-1|adyen|pi_3Nx', 'shop-2|stripe|pi_3Nx']);
});

test('the Payment__c reads back into the same canonical payment (our write is no change)', () => {
  const p = mapping.fromShopRow(row());
  const back = mapping.fromSalesforce(asStored(mapping.toSalesforce(p, ctx, 'UPSERT')[0]!), p);
  assert.deepEqual({ ...back, capturedAt: Math.floor(back.capturedAt! / 1000) }, { ...p, capturedAt: Math.floor(p.capturedAt! / 1000) });
  assert.equal(mapping.fromSalesforce({ ...asStored(mapping.toSalesforce(p, ctx, 'UPSERT')[0]!), Status__c: 'Refunded' }, p).status, 'refunded');
});

const pay = (amount: string, status: string, id = `tx-${amount}-${status}`) => ({ paymentId: `stripe|${id}`, amount, status });

test('captured minus refunded against the total: unpaid, authorized, partially paid, paid, overpaid, refunded', () => {
  assert.equal(paymentSummary('80.00', []), null, 'no payment, no status');
  assert.equal(paymentSummary('80.00', [pay('80.00', 'failed')])!.status, 'unpaid');
  assert.equal(paymentSummary('80.00', [pay('80.00', 'authorized')])!.status, 'authorized');
  assert.deepEqual(paymentSummary('80.00', [pay('50.00', 'captured')]), { captured: '50.00', refunded: '0.00', paidAmount: '50.00', status: 'partially_paid' });
  assert.equal(paymentSummary('80.00', [pay('50.00', 'captured'), pay('30.00', 'captured')])!.status, 'paid');
  assert.equal(paymentSummary('80.00', [pay('80', 'captured'), pay('0.01', 'captured')])!.status, 'overpaid');
  assert.deepEqual(paymentSummary('80.00', [pay('80.00', 'refunded')]), { captured: '80.00', refunded: '80.00', paidAmount: '0.00', status: 'refunded' });
  assert.equal(paymentSummary('80.00', [pay('80.00', 'captured'), pay('20.00', 'refunded')])!.status, 'paid', 'a second payment, given back');
  assert.equal(paymentSummary('80.00', [pay('50.00', 'captured'), pay('30.00', 'refunded')])!.status, 'partially_paid', 'part of it given back');
});

test('a mismatch is named for the alert; a matching or unpaid order is none', () => {
  assert.match(paymentMismatch({ orderNumber: '1042', total: '80.00', payments: [pay('50.00', 'captured')] })!, /order 1042: .*50\.00 paid against a total of 80\.00 \(partially paid\)/);
  assert.match(paymentMismatch({ orderNumber: '1042', total: '80.00', payments: [pay('100.00', 'captured')] })!, /overpaid/);
  assert.equal(paymentMismatch({ orderNumber: '1042', total: '80.00', payments: [pay('80.00', 'captured')] }), null);
  assert.equal(paymentMismatch({ orderNumber: '1042', total: '80.00', payments: [] }), null);
  assert.equal(paymentMismatch({ orderNumber: '1042', total: '80.00', payments: [pay('80.00', 'refunded')] }), null);
});

test('an order with its payments: the Opportunity carries the payment status and the paid amount', () => {
  const orders = createOrderMapping(entities.order, 'shop-1');
  const order = { order_number: '1042', customer_number: 'C-1', status: 'paid', currency: 'EUR', total_amount: '80.00', placed_at: '2026-11-27T06:00:00Z' };
  const none = orders.fromShopRow({ order });
  assert.equal(none.paymentStatus, null);
  assert.equal(orders.toSalesforce(none, ctx, 'UPSERT')[0]!.fields.Payment_Status__c, null);
  const short = orders.fromShopRow({ order, payments: [row({ amount: '50.00' })] });
  assert.deepEqual([short.paymentStatus, short.paidAmount], ['partially_paid', '50.00']);
  const opp = orders.toSalesforce(short, ctx, 'UPSERT')[0]!;
  assert.deepEqual([opp.fields.Payment_Status__c, opp.fields.Paid_Amount__c], ['Partially Paid', '50.00']);
  assert.ok(opp.decimalFields.includes('Paid_Amount__c'));
  // the order total changes: the status follows with the payments kept
  const smaller = orders.fromShopRow({ order: { ...order, total_amount: '50.00' } }, short);
  assert.equal(smaller.paymentStatus, 'paid');
  const back = orders.fromSalesforce({ Opportunity: asStored(opp) }, short);
  assert.deepEqual([back.paymentStatus, back.paidAmount], ['partially_paid', '50.00'], 'the Opportunity reads back the same status');
});
