import assert from 'node:assert/strict';
import { test } from 'node:test';
import { entitiesSchema } from '../../src/config/schema.ts';
import { ownerOf, policyFromConfig } from '../../src/reconcile/policy.ts';

const reconcile = { seenPositions: 64, maxInFlight: 32, inFlightTtlMs: 600_000 };

test('the policy follows the configuration: entity master, per-field masters (either way of writing them), policies', () => {
  const entities = entitiesSchema.parse({
    customer: { fieldMasters: { creditStatus: 'salesforce' }, fields: [{ canonical: 'phone', shop: 'phone', salesforce: 'Contact.Phone', master: 'salesforce' }], conflictPolicy: 'accept' },
  });
  const p = policyFromConfig('customer', entities.customer, reconcile);
  assert.equal(p.master, 'SHOP');
  assert.equal(ownerOf(p, 'email'), 'SHOP');
  assert.equal(ownerOf(p, 'creditStatus'), 'SALESFORCE');
  assert.equal(ownerOf(p, 'phone'), 'SALESFORCE');
  assert.equal(p.conflictPolicy, 'accept');
  assert.equal(p.deletePolicy, 'ignore');
  const product = policyFromConfig('product', entities.product, reconcile);
  assert.equal(product.master, 'SALESFORCE');
  assert.equal(product.deletePolicy, 'deactivate');
  assert.equal(product.deactivateField, 'active');
  const stock = policyFromConfig('stock', entities.stock, reconcile);
  assert.equal(stock.master, 'BOTH');
  assert.equal(stock.deltaField, 'quantity');
});
