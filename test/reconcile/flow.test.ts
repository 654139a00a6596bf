/** The pure path a processor runs: raw images -> canonical -> decide() -> write commands. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createCustomerMapping } from '../../src/entities/customer/mapping.ts';
import { createOrderMapping } from '../../src/entities/order/mapping.ts';
import { createProductMapping } from '../../src/entities/product/mapping.ts';
import type { AnyEntityMapping } from '../../src/entities/entity.ts';
import type { CanonicalChange, Origin } from '../../src/entities/types.ts';
import { decisionAuditEvent } from '../../src/reconcile/audit.ts';
import { commandsFor } from '../../src/reconcile/commands.ts';
import { decide } from '../../src/reconcile/decide.ts';
import { enabledEntities } from '../../src/entities/index.ts';
import { policyFor } from '../../src/reconcile/policy.ts';
import type { KeyState } from '../../src/reconcile/types.ts';
import { configSchema } from '../../src/config/schema.ts';
import { asStored } from '../entities/helpers.ts';

const config = configSchema.parse({
  kafka: { brokers: ['127.0.0.1:59092'] }, registry: { url: 'http://127.0.0.1:58081' }, shop: { databaseUrl: 'postgres://x/y' },
  salesforce: { loginUrl: 'https://127.0.0.1:58443', authType: 'client_credentials', clientId: 'c', clientSecret: 's' },
  entities: { customer: { enabled: true }, order: { enabled: true }, product: { enabled: true } },
});

/** A tiny processor: one key's state, decide, commands. */
function processor(entity: 'customer' | 'order' | 'product', mapping: AnyEntityMapping) {
  const policy = policyFor(enabledEntities(config).find((e) => e.name === entity)!, config.reconcile);
  let state: KeyState | null = null;
  let n = 0;
  return (origin: Origin, record: object | null, knownFields: string[] = [], op: 'UPSERT' | 'DELETE' = 'UPSERT') => {
    n += 1;
    const key = record ? mapping.key(record) : (state as KeyState).key;
    const change: CanonicalChange = {
      shopId: 'shop-1', entity, key, origin, sourcePosition: `${origin === 'SHOP' ? 'lsn' : 'replay'}:${n}`, transactionId: `tx${n}`,
      eventTime: 1_764_000_000_000 + n, op, sourceRecordId: null, sourceVersion: n, changeOrigin: null, record, knownFields,
    };
    const previous = { SHOP: state?.lastFromShop?.record ?? null, SALESFORCE: state?.lastFromSalesforce?.record ?? null };
    const result = decide(state, key, change, policy);
    state = result.newState;
    return { ...result, commands: commandsFor(mapping, change, result.writes, previous), change };
  };
}

test('a price change in Salesforce updates the shop row once; the shop CDC of that write is not sent back', () => {
  const mapping = createProductMapping(config.entities.product, 'shop-1');
  const run = processor('product', mapping);
  const product2 = { Sku__c: 'SKU-1', Name: 'Mug', IsActive: true };
  const created = run('SALESFORCE', mapping.fromSalesforce({ Product2: product2, PricebookEntry: { UnitPrice: 19.99, IsActive: true } }));
  assert.equal(created.commands.shop.length, 1);
  const shopRow = { ...created.commands.shop[0].row, updated_at: '2026-11-27T06:00:00Z', version: 1 };
  assert.equal(run('SHOP', mapping.fromShopRow(shopRow)).decision, 'echo');

  const changed = run('SALESFORCE', mapping.fromSalesforce({ Product2: product2, PricebookEntry: { UnitPrice: 24.5, IsActive: true } }));
  assert.equal(changed.decision, 'apply');
  assert.deepEqual(changed.commands.salesforce, []);
  assert.equal(changed.commands.shop.length, 1);
  assert.deepEqual(changed.commands.shop[0].row, { shop_id: 'shop-1', sku: 'SKU-1', price: '24.50' });

  const echo = run('SHOP', mapping.fromShopRow({ ...shopRow, price: '24.50', version: 2 }));
  assert.equal(echo.decision, 'echo');
  assert.deepEqual(echo.commands, { salesforce: [], shop: [] });
});

test('a price edited directly in the shop: conflict audited with an alert, and Salesforce\'s price written back', () => {
  const mapping = createProductMapping(config.entities.product, 'shop-1');
  const run = processor('product', mapping);
  const created = run('SALESFORCE', mapping.fromSalesforce({ Product2: { Sku__c: 'SKU-1', Name: 'Mug', IsActive: true }, PricebookEntry: { UnitPrice: 19.99 } }));
  const row = { ...created.commands.shop[0].row, updated_at: null };
  run('SHOP', mapping.fromShopRow(row));
  const edit = run('SHOP', mapping.fromShopRow({ ...row, price: '9.99' }));
  assert.equal(edit.decision, 'conflict');
  assert.equal(edit.alerts.length, 1);
  assert.deepEqual(edit.commands.shop.map((w) => w.row), [{ shop_id: 'shop-1', sku: 'SKU-1', price: '19.99' }]);
  assert.deepEqual(edit.commands.salesforce, []);
  const audit = decisionAuditEvent(edit.audit, { shopId: 'shop-1', entity: 'product', processor: 'reconcile-0', at: 1 });
  assert.equal(audit.decision, 'CONFLICT');
  assert.equal(audit.alert, true);
  assert.deepEqual(audit.conflictFields, ['price']);
  assert.equal(audit.policy, 'reassert-master');
});

test('a new shop customer -> one Account and one Contact; their CDC events, arriving one by one, are echoes', () => {
  const mapping = createCustomerMapping(config.entities.customer, 'shop-1');
  const run = processor('customer', mapping);
  const input = {
    customer: { customer_number: 'C-1', email: 'ann@x.io', first_name: 'Ann', last_name: 'Lee', phone: null, company_name: null, credit_status: null, marketing_opt_in: false },
    addresses: [],
  };
  const created = run('SHOP', mapping.fromShopRow(input), mapping.knownFromShop(input));
  assert.deepEqual(created.commands.salesforce.map((w) => w.sobject), ['Account', 'Contact']);
  const [account, contact] = created.commands.salesforce.map(asStored);
  // the Salesforce source saw the Account first, with no Contact image yet
  const accountOnly = { Account: account };
  const e1 = run('SALESFORCE', mapping.fromSalesforce(accountOnly), mapping.knownFromSalesforce(accountOnly));
  assert.equal(e1.decision, 'echo');
  assert.deepEqual(e1.alerts, []);
  const both = { Account: account, Contact: contact };
  const e2 = run('SALESFORCE', mapping.fromSalesforce(both), mapping.knownFromSalesforce(both));
  assert.ok(['echo', 'noop'].includes(e2.decision), e2.decision);
  assert.deepEqual(e2.commands, { salesforce: [], shop: [] });
});

test('an order status update moves the Opportunity stage, sending only the Opportunity', () => {
  const mapping = createOrderMapping(config.entities.order, 'shop-1');
  const run = processor('order', mapping);
  const order = { order_number: '1042', customer_number: 'C-1', status: 'pending', currency: 'EUR', total_amount: '59.97', placed_at: '2026-11-27T06:00:00Z' };
  const lines = [1, 2, 3].map((n) => ({ order_number: '1042', line_number: n, sku: `SKU-${n}`, product_name: 'P', quantity: 1, unit_price: '19.99', discount_amount: '0', line_total: '19.99' }));
  const created = run('SHOP', mapping.fromShopRow({ order, lines }));
  assert.deepEqual(created.commands.salesforce.map((w) => w.sobject), ['Opportunity', 'OpportunityLineItem', 'OpportunityLineItem', 'OpportunityLineItem']);
  assert.equal(created.commands.salesforce[0].fields.StageName, 'Prospecting');
  const paid = run('SHOP', mapping.fromShopRow({ order: { ...order, status: 'paid' } }, created.change.record as never), ['status']);
  assert.equal(paid.decision, 'apply');
  assert.deepEqual(paid.commands.salesforce.map((w) => w.sobject), ['Opportunity']);
  assert.equal(paid.commands.salesforce[0].fields.StageName, 'Closed Won');
  const deleted = run('SHOP', null, [], 'DELETE');
  assert.deepEqual(deleted.commands.salesforce.map((w) => `${w.operation} ${w.sobject} ${w.externalId}`), ['DELETE Opportunity shop-1|1042']);
});
