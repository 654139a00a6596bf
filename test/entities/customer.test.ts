import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createCustomerMapping } from '../../src/entities/customer/mapping.ts';
import { entitiesSchema } from '../../src/entities/index.ts';
import { asStored, ctx, entities } from './helpers.ts';

const mapping = createCustomerMapping(entities.customer, 'shop-1');
const row = {
  id: 7, shop_id: 'shop-1', customer_number: 'C-1001', email: 'Ann.Lee@Example.COM ', first_name: 'Ann', last_name: 'Lee',
  phone: '+49 30 123', company_name: null, status: 'active', credit_status: 'good', marketing_opt_in: true,
  created_at: '2026-11-01T10:00:00.000000Z', updated_at: 1_764_000_000_000, version: 3,
};
const billing = { shop_id: 'shop-1', customer_number: 'C-1001', address_type: 'billing', label: 'default', is_default: true, line1: 'Main St 1', line2: 'Apt 4', city: 'Berlin', region: null, postal_code: '10115', country: 'DE' };

test('a shop customer row and its address become one canonical customer', () => {
  const c = mapping.fromShopRow({ customer: row, addresses: [billing] });
  assert.equal(mapping.key(c), 'shop-1|C-1001');
  assert.equal(c.email, 'ann.lee@example.com');
  assert.equal(c.marketingOptIn, true);
  assert.equal(c.creditStatus, 'good');
  assert.equal(c.createdAt, Date.UTC(2026, 10, 1, 10));
  assert.equal(c.updatedAt, 1_764_000_000_000);
  assert.deepEqual(c.billingAddress, { line1: 'Main St 1', line2: 'Apt 4', city: 'Berlin', postalCode: '10115', region: null, country: 'DE' });
  assert.equal(c.shippingAddress, null);
});

test('customer -> Account then Contact (linked by external id) -> back to the same canonical record', () => {
  const c = mapping.fromShopRow({ customer: row, addresses: [billing] });
  const writes = mapping.toSalesforce(c, ctx, 'UPSERT');
  assert.deepEqual(writes.map((w) => `${w.sobject}/${w.externalIdField}=${w.externalId}`), [
    'Account/Shop_Customer_Id__c=shop-1|C-1001', 'Contact/Shop_Customer_Id__c=shop-1|C-1001',
  ]);
  const [account, contact] = writes;
  assert.equal(account.fields.Name, 'Ann Lee');
  assert.equal(account.fields.Credit_Status__c, 'Good');
  assert.equal(account.fields.BillingStreet, 'Main St 1\nApt 4');
  assert.equal(contact.fields.Email, 'ann.lee@example.com');
  assert.equal(contact.fields.HasOptedOutOfEmail, false);
  assert.equal(contact.fields.MailingCity, 'Berlin');
  assert.deepEqual(contact.references, [{ field: 'AccountId', relationshipName: 'Account', sobject: 'Account', externalIdField: 'Shop_Customer_Id__c', externalId: 'shop-1|C-1001' }]);
  assert.ok(account.sequence < contact.sequence, 'parent first');
  const back = mapping.fromSalesforce({ Account: asStored(account), Contact: asStored(contact) }, c);
  assert.deepEqual(back, c);
  const fresh = mapping.fromSalesforce({ Account: asStored(account), Contact: asStored(contact) });
  for (const f of ['customerId', 'email', 'firstName', 'lastName', 'phone', 'company', 'marketingOptIn', 'creditStatus', 'billingAddress'] as const) {
    assert.deepEqual(fresh[f], c[f], f);
  }
});

test('a deleted customer deletes the Contact and the Account; the Contact keeps its Account lookup, so the sink deletes it first', () => {
  const c = mapping.fromShopRow({ customer: row });
  const del = mapping.toSalesforce(c, ctx, 'DELETE');
  assert.deepEqual(del.map((w) => `${w.operation} ${w.sobject}:${w.externalId} <- ${w.references.map((r) => `${r.sobject}:${r.externalId}`).join(',')}`), [
    'DELETE Contact:shop-1|C-1001 <- Account:shop-1|C-1001', 'DELETE Account:shop-1|C-1001 <- ',
  ]);
  assert.ok(del.every((w) => Object.keys(w.fields).length === 0), 'a delete writes no field');
});

test('a company customer names the Account after the company', () => {
  const c = mapping.fromShopRow({ customer: { ...row, company_name: 'Acme GmbH' } });
  const [account] = mapping.toSalesforce(c, ctx, 'UPSERT');
  assert.equal(account.fields.Name, 'Acme GmbH');
  assert.equal(mapping.fromSalesforce({ Account: asStored(account) }, c).company, 'Acme GmbH');
});

test('a write restricted to Salesforce-owned fields reaches the shop as only those columns', () => {
  const c = mapping.fromShopRow({ customer: row });
  const [w] = mapping.toShop({ ...c, creditStatus: 'hold' }, ctx, 'UPSERT', { fields: new Set(['creditStatus']) });
  assert.equal(w.table, 'customers');
  assert.deepEqual(w.keyColumns, ['shop_id', 'customer_number']);
  assert.deepEqual(w.row, { shop_id: 'shop-1', customer_number: 'C-1001', credit_status: 'hold' });
});

test('a Salesforce credit status is read back into the shop vocabulary', () => {
  const c = mapping.fromShopRow({ customer: row });
  const updated = mapping.fromSalesforce({ Account: { Shop_Customer_Id__c: 'shop-1|C-1001', Credit_Status__c: 'Blocked' } }, c);
  assert.equal(updated.creditStatus, 'blocked');
});

test('a row without its business key is rejected naming the column', () => {
  assert.throws(() => mapping.fromShopRow({ customer: { ...row, customer_number: null } }), /customers\.customer_number/);
});

test('configured mappings extend and replace the built-in ones (an entity is a mapping plus a policy)', () => {
  const cfg = entitiesSchema.parse({
    customer: {
      fields: [
        { canonical: 'phone', shop: 'phone', salesforce: 'Contact.MobilePhone' },
        { canonical: 'extra.status', shop: 'status', salesforce: 'Account.Description', transform: 'uppercase' },
      ],
    },
  }).customer;
  const custom = createCustomerMapping(cfg, 'shop-1');
  const c = custom.fromShopRow({ customer: row });
  assert.deepEqual(c.extra, { status: 'ACTIVE' });
  const [account, contact] = custom.toSalesforce(c, ctx, 'UPSERT');
  assert.equal(contact.fields.MobilePhone, '+49 30 123');
  assert.equal('Phone' in contact.fields, false);
  assert.equal(account.fields.Description, 'ACTIVE');
  assert.deepEqual(custom.fromSalesforce({ Account: asStored(account), Contact: asStored(contact) }, c).extra, { status: 'ACTIVE' });
});
