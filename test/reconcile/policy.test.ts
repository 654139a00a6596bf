import assert from 'node:assert/strict';
import { test } from 'node:test';
import { enabledEntities, entitiesSchema } from '../../src/entities/index.ts';
import { ownerOf, policyFor } from '../../src/reconcile/policy.ts';
import type { Policy } from '../../src/reconcile/types.ts';

const reconcile = { seenPositions: 64, maxInFlight: 32, inFlightTtlMs: 600_000 };

function policiesOf(sections: Record<string, object>): Record<string, Policy> {
  const entities = entitiesSchema.parse(Object.fromEntries(Object.entries(sections).map(([k, v]) => [k, { enabled: true, ...v }])));
  return Object.fromEntries(enabledEntities({ shopId: 'shop-1', entities }).map((e) => [e.name, policyFor(e, reconcile)]));
}

test('the policy follows the configuration: entity master, per-field masters (either way of writing them), policies', () => {
  const policies = policiesOf({
    customer: { fieldMasters: { creditStatus: 'salesforce' }, fields: [{ canonical: 'phone', shop: 'phone', salesforce: 'Contact.Phone', master: 'salesforce' }], conflictPolicy: 'accept' },
    product: {}, stock: {},
  });
  const p = policies.customer!;
  assert.equal(p.master, 'SHOP');
  assert.equal(ownerOf(p, 'email'), 'SHOP');
  assert.equal(ownerOf(p, 'creditStatus'), 'SALESFORCE');
  assert.equal(ownerOf(p, 'phone'), 'SALESFORCE');
  assert.equal(p.conflictPolicy, 'accept');
  assert.equal(p.deletePolicy, 'ignore');
  const product = policies.product!;
  assert.equal(product.master, 'SALESFORCE');
  assert.equal(product.deletePolicy, 'deactivate');
  assert.equal(product.deactivateField, 'active');
  const stock = policies.stock!;
  assert.equal(stock.master, 'BOTH');
  assert.equal(stock.deltaField, 'quantity');
});

test('each field mapped to Salesforce is compared at the precision Salesforce stores it', () => {
  const { order, customer } = policiesOf({ order: {}, customer: {} });
  assert.deepEqual(order!.precision.SALESFORCE, { placedAt: { kind: 'second' }, total: { kind: 'scale', scale: 2 }, paidAmount: { kind: 'scale', scale: 2 } });
  assert.deepEqual(customer!.precision.SALESFORCE, {}, 'a customer has no timestamp or money field in Salesforce');
  assert.equal(order!.precision.SHOP, undefined, 'the shop stores what we write');
});
