/** Own writes known by origin, values compared at the precision of the side, and the stock delta merge with windows. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { enabledEntities, entitiesSchema } from '../../src/entities/index.ts';
import { decide, flushWindow } from '../../src/reconcile/decide.ts';
import { policyFor } from '../../src/reconcile/policy.ts';
import type { Change, KeyState, Policy, Rec, Side } from '../../src/reconcile/types.ts';

const reconcile = { seenPositions: 64, maxInFlight: 32, inFlightTtlMs: 600_000 };

function policyOf(name: string, section: object = {}): Policy {
  const entities = entitiesSchema.parse({ [name]: { enabled: true, ...section } });
  return policyFor(enabledEntities({ shopId: 'shop-1', entities }).find((e) => e.name === name)!, reconcile);
}

let clock = 1_764_000_000_000;
let pos = 0;
function change(origin: Side, record: Rec | null, extra: Partial<Change> = {}): Change {
  clock += 1000;
  pos += 1;
  return { origin, sourcePosition: `${origin === 'SHOP' ? 'pg' : 'sf'}:${pos}`, transactionId: `tx${pos}`, eventTime: clock, op: 'UPSERT', record, ...extra };
}

function run(policy: Policy, key: string, changes: Change[], start: KeyState | null = null) {
  let state = start;
  return changes.map((c) => {
    const r = decide(state, key, c, policy);
    state = r.newState;
    return r;
  });
}

const customer = (over: Rec = {}): Rec => ({
  customerId: 'C-1', email: 'ada@example.com', firstName: 'Ada', lastName: 'Lovelace', phone: null, company: null,
  marketingOptIn: true, creditStatus: null, billingAddress: null, shippingAddress: null, createdAt: null, updatedAt: null, extra: {}, ...over,
});
const stock = (quantity: number): Rec => ({ sku: 'SKU-1', warehouseCode: 'WH-1', quantity, updatedAt: null, extra: {} });
const address = { line1: 'Main St 1', line2: null, city: 'Berlin', postalCode: '10115', region: null, country: 'DE' };

test('our first write coming back after the customer gained its addresses is an echo, not a conflict', () => {
  const policy = policyOf('customer');
  const [created, addressed, echoOfFirst, echoOfSecond] = run(policy, 'shop-1|C-1', [
    change('SHOP', customer()),
    change('SHOP', customer({ billingAddress: address, shippingAddress: address })),
    // Salesforce reports our first write (no addresses yet) after the second was planned
    change('SALESFORCE', customer(), { ours: true }),
    change('SALESFORCE', customer({ billingAddress: address, shippingAddress: address }), { ours: true }),
  ]);
  assert.equal(created!.decision, 'apply');
  assert.equal(addressed!.decision, 'apply');
  assert.equal(echoOfFirst!.decision, 'echo');
  assert.deepEqual(echoOfFirst!.alerts, []);
  assert.deepEqual(echoOfFirst!.writes, []);
  assert.equal(echoOfSecond!.decision, 'echo');
  assert.equal(echoOfSecond!.newState.inFlight.filter((w) => w.target === 'SALESFORCE').length, 0, 'both writes acknowledged');
});

test('a field Salesforce owns that changed in our own write\'s event (an org automation) still flows to the shop', () => {
  const policy = policyOf('customer');
  const [, echo] = run(policy, 'shop-1|C-1', [
    change('SHOP', customer()),
    change('SALESFORCE', customer({ creditStatus: 'hold' }), { ours: true }),
  ]);
  assert.equal(echo!.decision, 'apply');
  assert.deepEqual(echo!.alerts, []);
  assert.equal(echo!.writes.length, 1);
  assert.equal(echo!.writes[0]!.target, 'SHOP');
  assert.deepEqual(echo!.writes[0]!.fields, ['creditStatus']);
  assert.equal(echo!.newState.base!.creditStatus, 'hold');
});

test('a person editing a shop-owned field in Salesforce is still a conflict, and the shop value is re-asserted', () => {
  const policy = policyOf('customer');
  const [, , edit] = run(policy, 'shop-1|C-1', [
    change('SHOP', customer()),
    change('SALESFORCE', customer(), { ours: true }),
    change('SALESFORCE', customer({ email: 'someone@else.com' }), { ours: false }),
  ]);
  assert.equal(edit!.decision, 'conflict');
  assert.deepEqual(edit!.audit.conflictFields, ['email']);
  assert.equal(edit!.alerts.length, 1);
  const reassert = edit!.writes.find((w) => w.reason === 'reassert-master');
  assert.equal(reassert?.target, 'SALESFORCE');
  assert.equal(reassert?.record.email, 'ada@example.com');
});

const contactFields = ['customerId', 'email', 'firstName', 'lastName', 'phone', 'marketingOptIn'];

test('a person\'s Salesforce edit equal to our e-mail write still in flight is the person\'s, not its echo; the person\'s next edit is a conflict', () => {
  const policy = policyOf('customer');
  const [created, createdBack, shopEdit, person, ourWrite, personAgain] = run(policy, 'shop-1|C-1', [
    change('SHOP', customer(), { ours: false }),
    change('SALESFORCE', customer(), { ours: true }),
    change('SHOP', customer({ email: 'new@example.com' }), { ours: false }), // we write new@ to Salesforce
    // before our write lands, a person in Salesforce types the same address (change origin '')
    change('SALESFORCE', customer({ email: 'new@example.com' }), { ours: false, knownFields: contactFields }),
    // then our write lands (change origin: our client)
    change('SALESFORCE', customer({ email: 'new@example.com' }), { ours: true, knownFields: contactFields }),
    // and the person changes it again: the shop owns the e-mail
    change('SALESFORCE', customer({ email: 'typo@example.com' }), { ours: false, knownFields: contactFields }),
  ]);
  assert.deepEqual([created!.decision, createdBack!.decision, shopEdit!.decision], ['apply', 'echo', 'apply']);
  const write = shopEdit!.writes[0]!;
  assert.deepEqual([write.target, write.fields], ['SALESFORCE', ['email']]);
  assert.notEqual(person!.decision, 'echo', 'the person\'s edit is not acknowledged as our write');
  assert.deepEqual(person!.audit.acknowledged, []);
  assert.deepEqual(person!.writes, [], 'it equals the shop\'s value: nothing to write');
  assert.deepEqual(person!.newState.inFlight.map((w) => w.id), [write.id], 'our write is still expected back');
  assert.equal(ourWrite!.decision, 'echo');
  assert.deepEqual(ourWrite!.audit.acknowledged, [write.id], 'the echo is known by its origin and acknowledges our write');
  assert.equal(personAgain!.decision, 'conflict');
  assert.deepEqual(personAgain!.writes.map((w) => [w.target, w.reason, w.record.email]), [['SALESFORCE', 'reassert-master', 'new@example.com']]);
});

test('a person\'s Salesforce edit equal to an older write of ours in flight, after the shop moved on, is a conflict and the shop\'s newer value is re-asserted', () => {
  const policy = policyOf('customer');
  const [, , first, second, person] = run(policy, 'shop-1|C-1', [
    change('SHOP', customer(), { ours: false }),
    change('SALESFORCE', customer(), { ours: true }),
    change('SHOP', customer({ email: 'first@example.com' }), { ours: false }),
    change('SHOP', customer({ email: 'second@example.com' }), { ours: false }),
    // both writes still in flight: a person in Salesforce types the first address
    change('SALESFORCE', customer({ email: 'first@example.com' }), { ours: false, knownFields: contactFields }),
  ]);
  assert.equal(person!.decision, 'conflict', 'an edit of a shop-owned field by a person, whatever we have in flight');
  assert.deepEqual(person!.audit.acknowledged, []);
  assert.deepEqual(person!.writes.map((w) => [w.target, w.reason, w.record.email]), [['SALESFORCE', 'reassert-master', 'second@example.com']]);
  assert.ok([first!.writes[0]!.id, second!.writes[0]!.id].every((id) => person!.newState.inFlight.some((w) => w.id === id)), 'our two writes are still expected back');
});

test('stock: a person\'s Salesforce count equal to our merged write still in flight is a movement of its own, and both sides end with both movements', () => {
  const policy = policyOf('stock', { windowMs: 0 });
  const start = run(policy, 'shop-1|SKU-1|WH-1', [change('SHOP', stock(10)), change('SALESFORCE', stock(10), { ours: true })]);
  const [sale, person, ourWrite] = run(policy, 'shop-1|SKU-1|WH-1', [
    change('SHOP', stock(8), { ours: false }), // 2 sold in the shop: we write 8 to Salesforce
    // before it lands, a person in Salesforce books 2 out of the 10 they see: they type 8 too
    change('SALESFORCE', stock(8), { ours: false }),
    change('SALESFORCE', stock(8), { ours: true }), // our write of 8 lands after the person's
  ], start[1]!.newState);
  assert.deepEqual(sale!.writes.map((w) => [w.target, w.record.quantity]), [['SALESFORCE', 8]]);
  assert.equal(person!.decision, 'apply', 'the person\'s count is a movement, not our write\'s echo');
  assert.deepEqual(person!.audit.acknowledged, []);
  assert.equal(person!.newState.base!.quantity, 6, 'both sales count: 10 - 2 - 2');
  assert.deepEqual(person!.writes.map((w) => [w.target, w.record.quantity]).sort(), [['SALESFORCE', 6], ['SHOP', 6]]);
  // our 8 landing after the person's edit leaves Salesforce behind: the merged value goes there again
  assert.equal(ourWrite!.decision, 'echo');
  assert.ok(ourWrite!.writes.some((w) => w.target === 'SALESFORCE' && w.record.quantity === 6));
  assert.ok(ourWrite!.writes.every((w) => w.record.quantity === 6), 'nothing but the merged value is written');
  const settled = run(policy, 'shop-1|SKU-1|WH-1', [change('SHOP', stock(6), { ours: true }), change('SALESFORCE', stock(6), { ours: true })], ourWrite!.newState);
  assert.deepEqual(settled.map((r) => [r.decision, r.writes.length]), [['echo', 0], ['echo', 0]]);
  assert.deepEqual(settled[1]!.newState.sideValues, { SHOP: 6, SALESFORCE: 6 });
});

test('an order timestamp with milliseconds reads back from Salesforce to the second: our echo, no change', () => {
  const policy = policyOf('order');
  const placedAt = Date.UTC(2026, 10, 3, 9, 15, 42, 123);
  const order = (over: Rec = {}): Rec => ({
    orderNumber: '1042', customerId: 'C-1', status: 'paid', currency: 'EUR', subtotal: null, discountTotal: null, taxTotal: null,
    shippingTotal: null, total: '99.90', placedAt, closeDate: '2026-11-03', lines: [], createdAt: null, updatedAt: null, extra: {}, ...over,
  });
  const known = ['orderNumber', 'status', 'currency', 'total', 'placedAt', 'closeDate'];
  // origin unknown: the value comparison must be at Salesforce's precision
  const [, echo, later] = run(policy, 'shop-1|1042', [
    change('SHOP', order()),
    change('SALESFORCE', order({ placedAt: Date.UTC(2026, 10, 3, 9, 15, 42) }), { knownFields: known }),
    change('SALESFORCE', order({ placedAt: Date.UTC(2026, 10, 3, 9, 15, 42), status: 'paid' }), { knownFields: known, ours: false }),
  ]);
  assert.equal(echo!.decision, 'echo');
  assert.equal(later!.decision, 'noop', 'a stored second-precision timestamp is the same value, not a change of a shop-owned field');
  assert.deepEqual(later!.alerts, []);
});

test('a duplicate Salesforce event changes no state at all', () => {
  const policy = policyOf('product');
  const first = change('SALESFORCE', { sku: 'SKU-1', name: 'Mug', description: null, family: null, active: true, price: '10.00', currency: 'EUR', updatedAt: null, extra: {} });
  const [applied, dup] = run(policy, 'shop-1|SKU-1', [first, { ...first }]);
  assert.equal(dup!.decision, 'duplicate');
  assert.deepEqual(dup!.newState, applied!.newState);
  assert.deepEqual(dup!.writes, []);
});


test('stock: a sale in the shop and a restock in Salesforce in one window both survive, one write per side', () => {
  const policy = policyOf('stock', { windowMs: 10_000 });
  const [known] = run(policy, 'shop-1|SKU-1|WH-1', [change('SHOP', stock(100))]); // a row appears in the shop
  const flushed = flushWindow(known!.newState, 'window:1', clock, policy);
  assert.deepEqual(flushed.writes.map((w) => [w.target, w.fields, w.record.quantity]), [['SALESFORCE', null, 100]], 'created in Salesforce, whole');
  const [created] = run(policy, 'shop-1|SKU-1|WH-1', [change('SALESFORCE', stock(100), { ours: true })], flushed.newState);
  assert.equal(created!.decision, 'echo');
  const state = created!.newState;
  const window = run(policy, 'shop-1|SKU-1|WH-1', [
    change('SHOP', stock(97), { ours: false }),         // sold 3
    change('SALESFORCE', stock(120), { ours: false }),  // restocked 20 on what Salesforce had (100)
    change('SHOP', stock(96), { ours: false }),         // sold 1 more
  ], state);
  assert.ok(window.every((r) => r.writes.length === 0), 'writes wait for the window');
  const end = window[2]!.newState;
  assert.equal(end.base!.quantity, 116);
  assert.equal(end.windowPending, true);
  const out = flushWindow(end, 'window:2', clock, policy);
  assert.deepEqual(out.writes.map((w) => [w.target, w.record.quantity, w.fields]).sort(), [['SALESFORCE', 116, ['quantity']], ['SHOP', 116, ['quantity']]]);
  assert.equal(out.newState.windowPending, false);
  // our writes come back: echoes that only update what each side holds
  const back = run(policy, 'shop-1|SKU-1|WH-1', [change('SHOP', stock(116), { ours: true }), change('SALESFORCE', stock(116), { ours: true })], out.newState);
  assert.deepEqual(back.map((r) => r.decision), ['echo', 'echo']);
  assert.deepEqual(flushWindow(back[1]!.newState, 'window:3', clock, policy).writes, [], 'both sides agree: nothing to write');
});

test('stock: a person\'s change committed after our write is merged against the value we wrote', () => {
  const policy = policyOf('stock', { windowMs: 0 });
  const start = run(policy, 'shop-1|SKU-1|WH-1', [change('SHOP', stock(10)), change('SALESFORCE', stock(10), { ours: true })]);
  const [sale, ourEcho, restock] = run(policy, 'shop-1|SKU-1|WH-1', [
    change('SHOP', stock(8), { ours: false }),          // sold 2 -> write 8 to Salesforce
    change('SALESFORCE', stock(8), { ours: true }),     // it landed
    change('SALESFORCE', stock(13), { ours: false }),   // a person adds 5 to what they saw (8)
  ], start[1]!.newState);
  assert.deepEqual(sale!.writes.map((w) => [w.target, w.record.quantity]), [['SALESFORCE', 8]]);
  assert.equal(ourEcho!.decision, 'echo');
  assert.deepEqual(restock!.writes.map((w) => [w.target, w.record.quantity]), [['SHOP', 13]]);
});

test('stock: a merged quantity below zero raises an alert; kept by default, clamped when configured', () => {
  for (const [belowZero, expected] of [['keep', -2], ['clamp', 0]] as const) {
    const policy = policyOf('stock', { windowMs: 0, belowZero });
    const [, , sale] = run(policy, 'shop-1|SKU-1|WH-1', [change('SHOP', stock(3)), change('SALESFORCE', stock(3), { ours: true }), change('SHOP', stock(-2), { ours: false })]);
    assert.equal(sale!.alerts[0]?.kind, 'negative-stock');
    assert.equal(sale!.newState.base!.quantity, expected);
  }
});

test('our Contact coming back before our Account: the credit status the Contact event could not show is no change', () => {
  const policy = policyOf('customer');
  const [, contactBack, accountBack] = run(policy, 'shop-1|C-1', [
    change('SHOP', customer({ creditStatus: 'good' })),
    // the Contact's event knows only the Contact's fields; the rest of the record is filled in from the base
    change('SALESFORCE', customer({ creditStatus: 'good' }), { ours: true, knownFields: ['customerId', 'email', 'firstName', 'lastName', 'phone', 'marketingOptIn'] }),
    // the Account's event shows a credit status Salesforce never set
    change('SALESFORCE', customer({ creditStatus: null }), { ours: true, knownFields: ['customerId', 'creditStatus', 'billingAddress', 'shippingAddress'] }),
  ]);
  assert.equal(contactBack!.decision, 'echo');
  assert.equal(accountBack!.decision, 'echo');
  assert.deepEqual(accountBack!.writes, []);
});
