import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createInvoiceMapping } from '../../src/entities/invoice/mapping.ts';
import { ctx, entities } from './helpers.ts';

const mapping = createInvoiceMapping(entities.invoice, 'shop-1');
const image = (over: Record<string, unknown> = {}) => ({
  Id: 'a0C000000000001AAA', Invoice_Number__c: 'INV-7', Opportunity__c: '006000000000001AAA', 'Opportunity__c.Shop_Order_Id__c': 'shop-1|1042',
  Amount__c: 119, Tax_Amount__c: 19, Paid_Amount__c: 0, Currency__c: 'EUR', Status__c: 'Issued', Issued_Date__c: '2026-11-27',
  Due_Date__c: '2026-12-11', Pdf_Url__c: 'https://billing.example.com/INV-7.pdf', ...over,
});

test('an Invoice__c -> the shop invoice of the order its Opportunity is for: net + tax = total, the issue date at midnight UTC', () => {
  const inv = mapping.fromSalesforce(image());
  assert.equal(mapping.key(inv), 'shop-1|INV-7');
  assert.equal(inv.orderNumber, '1042');
  const [w, ...rest] = mapping.toShop(inv, ctx, 'UPSERT');
  assert.equal(rest.length, 0);
  assert.equal(w!.table, 'invoices');
  assert.deepEqual(w!.keyColumns, ['shop_id', 'invoice_number']);
  assert.deepEqual(w!.row, {
    shop_id: 'shop-1', invoice_number: 'INV-7', order_number: '1042', total_amount: '119.00', tax_amount: '19.00', net_amount: '100.00',
    paid_amount: '0.00', currency: 'EUR', status: 'issued', issued_at: '2026-11-27T00:00:00Z', due_date: '2026-12-11',
  });
});

test('a change of the paid amount writes it alone; a voided invoice is void in the shop', () => {
  const inv = mapping.fromSalesforce(image({ Paid_Amount__c: 50 }));
  assert.deepEqual(mapping.toShop(inv, ctx, 'UPSERT', { fields: new Set(['paidAmount']) })[0]!.row, { shop_id: 'shop-1', invoice_number: 'INV-7', paid_amount: '50.00' });
  const amounts = mapping.toShop(mapping.fromSalesforce(image({ Amount__c: 238 })), ctx, 'UPSERT', { fields: new Set(['amount']) })[0]!.row;
  assert.deepEqual(amounts, { shop_id: 'shop-1', invoice_number: 'INV-7', total_amount: '238.00', tax_amount: '19.00', net_amount: '219.00' });
  const voided = mapping.fromSalesforce(image({ Status__c: 'Void' }));
  assert.equal(mapping.toShop(voided, ctx, 'UPSERT', { fields: new Set(['status']) })[0]!.row.status, 'void');
});

test('the shop row our write made reads back into the same invoice (our write is no change)', () => {
  const inv = mapping.fromSalesforce(image());
  const row = { ...mapping.toShop(inv, ctx, 'UPSERT')[0]!.row, id: 3, customer_number: null, issued_at: '2026-11-27T00:00:00Z', due_date: Date.UTC(2026, 11, 11) / 86_400_000, version: 1 };
  assert.deepEqual(mapping.fromShopRow(row, inv), inv);
});

test('an invoice whose Opportunity is not a shop order cannot be placed: the reason names the lookup', () => {
  assert.throws(() => mapping.fromSalesforce(image({ 'Opportunity__c.Shop_Order_Id__c': undefined })), /Opportunity__c -> Opportunity\.Shop_Order_Id__c/);
});
