import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decide } from '../../src/reconcile/decide.ts';
import { dropInFlight, parseState, serializeState } from '../../src/reconcile/state.ts';
import type { Change, KeyState, Policy, Rec, Side } from '../../src/reconcile/types.ts';

const basePolicy: Policy = {
  entity: 'product', master: 'SALESFORCE', fieldMasters: {}, conflictPolicy: 'reassert-master', deletePolicy: 'propagate',
  deactivateField: 'active', ignoreFields: ['createdAt', 'updatedAt'], deltaField: null, belowZero: 'keep', windowMs: 0,
  precision: {}, seenPositions: 64, maxInFlight: 32, inFlightTtlMs: 600_000, watch: null,
};
const KEY = 'shop-1|SKU-1';
let clock = 1_700_000_000_000;

function change(origin: Side, pos: string, record: Rec | null, op: 'UPSERT' | 'DELETE' = 'UPSERT'): Change {
  clock += 1000;
  return { origin, sourcePosition: pos, transactionId: `tx-${pos}`, eventTime: clock, op, record };
}
const product = (over: Rec = {}): Rec => ({ sku: 'SKU-1', name: 'Mug', price: '19.99', active: true, updatedAt: clock, ...over });

/** Runs changes in order, returning each result. */
function run(policy: Policy, changes: Change[], start: KeyState | null = null) {
  let state = start;
  return changes.map((c) => {
    const r = decide(state, KEY, c, policy);
    state = r.newState;
    return r;
  });
}

describe('decide: duplicates and echoes', () => {
  test('a change whose source position was already seen is dropped as a duplicate and changes nothing', () => {
    const [first, second] = run(basePolicy, [change('SALESFORCE', 'replay:1', product()), change('SALESFORCE', 'replay:1', product({ price: '25.00' }))]);
    assert.equal(first.decision, 'apply');
    assert.equal(second.decision, 'duplicate');
    assert.deepEqual(second.writes, []);
    assert.deepEqual(second.newState, first.newState);
  });

  test('the same position from the other side is not a duplicate: it is decided like any new position', () => {
    // the shop edits the price Salesforce owns: a conflict, whatever the position string is
    const [first, second] = run(basePolicy, [change('SALESFORCE', 'p:1', product()), change('SHOP', 'p:1', product({ price: '25.00' }))]);
    assert.equal(second.decision, 'conflict');
    assert.deepEqual(second.audit.conflictFields, ['price']);
    assert.deepEqual(second.writes.map((w) => [w.target, w.reason, w.record.price]), [['SHOP', 'reassert-master', '19.99']]);
    assert.deepEqual(second.newState.seenPositions, ['SALESFORCE:p:1', 'SHOP:p:1']);
    // and exactly as the same change at a position never used by either side
    const fresh = decide(first.newState, KEY, { ...change('SHOP', 'p:2', product({ price: '25.00' })), eventTime: clock - 1000 }, basePolicy);
    assert.equal(fresh.decision, second.decision);
    assert.deepEqual(fresh.writes.map((w) => [w.target, w.op, w.fields, w.record]), second.writes.map((w) => [w.target, w.op, w.fields, w.record]));
  });

  test('our write coming back from its target is an echo: acknowledged, not written again', () => {
    const [applied, echo] = run(basePolicy, [
      change('SALESFORCE', 'replay:1', product()),
      change('SHOP', 'lsn:10', product({ updatedAt: 5 })), // shop CDC of the row we wrote (its own updated_at)
    ]);
    assert.equal(applied.writes.length, 1);
    assert.equal(applied.writes[0].target, 'SHOP');
    assert.equal(echo.decision, 'echo');
    assert.deepEqual(echo.writes, []);
    assert.deepEqual(echo.audit.acknowledged, [applied.writes[0].id]);
    assert.equal(echo.newState.inFlight.length, 0);
  });

  test('a late echo of an older write is still an echo after a newer value was sent', () => {
    const results = run(basePolicy, [
      change('SALESFORCE', 'replay:1', product({ price: '10.00' })),
      change('SALESFORCE', 'replay:2', product({ price: '12.00' })),
      change('SHOP', 'lsn:1', product({ price: '10.00' })),
      change('SHOP', 'lsn:2', product({ price: '12.00' })),
    ]);
    assert.deepEqual(results.map((r) => r.decision), ['apply', 'apply', 'echo', 'echo']);
    assert.equal(results[3].newState.inFlight.length, 0);
    assert.equal(results[3].newState.base?.price, '12.00');
  });

  test('a change equal to the base that matches no write of ours is a noop', () => {
    const results = run(basePolicy, [
      change('SALESFORCE', 'replay:1', product()),
      change('SHOP', 'lsn:1', product()),
      change('SHOP', 'lsn:2', product({ updatedAt: 99 })), // only bookkeeping changed
    ]);
    assert.equal(results[2].decision, 'noop');
    assert.deepEqual(results[2].writes, []);
  });
});

describe('decide: master rules', () => {
  test('a change on the master side is written to the other side and moves the base', () => {
    const results = run(basePolicy, [
      change('SALESFORCE', 'replay:1', product()),
      change('SHOP', 'lsn:1', product()),
      change('SALESFORCE', 'replay:2', product({ price: '24.50' })),
    ]);
    const r = results[2];
    assert.equal(r.decision, 'apply');
    assert.equal(r.writes.length, 1);
    assert.equal(r.writes[0].target, 'SHOP');
    assert.deepEqual(r.writes[0].fields, ['price']);
    assert.equal(r.writes[0].record.price, '24.50');
    assert.equal(r.newState.base?.price, '24.50');
    assert.deepEqual(r.audit.changedFields, ['price']);
    assert.equal(r.audit.alert, false);
  });

  test('a non-master change with reassert-master: conflict, alert, and the master value written back', () => {
    const results = run(basePolicy, [
      change('SALESFORCE', 'replay:1', product()),
      change('SHOP', 'lsn:1', product()),
      change('SHOP', 'lsn:2', product({ price: '1.00' })), // edited directly in the shop
    ]);
    const r = results[2];
    assert.equal(r.decision, 'conflict');
    assert.equal(r.alerts.length, 1);
    assert.equal(r.alerts[0].kind, 'conflict');
    assert.deepEqual(r.alerts[0].fields, ['price']);
    assert.equal(r.writes.length, 1);
    assert.equal(r.writes[0].target, 'SHOP');
    assert.equal(r.writes[0].reason, 'reassert-master');
    assert.equal(r.writes[0].record.price, '19.99');
    assert.equal(r.newState.base?.price, '19.99');
    assert.equal(r.audit.policy, 'reassert-master');
    assert.deepEqual(r.audit.conflictFields, ['price']);
    // the re-asserted value comes back from the shop: an echo, not another conflict
    const back = decide(r.newState, KEY, change('SHOP', 'lsn:3', product()), basePolicy);
    assert.equal(back.decision, 'echo');
  });

  test('a non-master change with accept: conflict, alert, the value becomes the base and goes to the master', () => {
    const policy: Policy = { ...basePolicy, conflictPolicy: 'accept' };
    const results = run(policy, [
      change('SALESFORCE', 'replay:1', product()),
      change('SHOP', 'lsn:1', product()),
      change('SHOP', 'lsn:2', product({ price: '1.00' })),
    ]);
    const r = results[2];
    assert.equal(r.decision, 'conflict');
    assert.equal(r.alerts.length, 1);
    assert.equal(r.writes.length, 1);
    assert.equal(r.writes[0].target, 'SALESFORCE');
    assert.equal(r.writes[0].reason, 'accept');
    assert.equal(r.writes[0].record.price, '1.00');
    assert.equal(r.newState.base?.price, '1.00');
    assert.equal(r.audit.policy, 'accept');
  });

  test('per-field masters: the shop owns the e-mail, Salesforce the credit status, each flows its own way', () => {
    const policy: Policy = { ...basePolicy, entity: 'customer', master: 'SHOP', fieldMasters: { creditStatus: 'SALESFORCE' } };
    const customer = (over: Rec = {}): Rec => ({ customerId: 'C-1', email: 'a@x.io', lastName: 'Lee', creditStatus: null, ...over });
    const results = run(policy, [
      change('SHOP', 'lsn:1', customer()),
      change('SALESFORCE', 'replay:1', customer()), // echo of our Account/Contact write
      change('SALESFORCE', 'replay:2', customer({ creditStatus: 'hold' })), // SF owns it: goes to the shop
      change('SHOP', 'lsn:2', customer({ creditStatus: 'hold' })), // echo
      change('SHOP', 'lsn:3', customer({ creditStatus: 'hold', email: 'b@x.io' })), // shop owns e-mail: goes to SF
      change('SALESFORCE', 'replay:3', customer({ creditStatus: 'good', email: 'b@x.io' })), // SF changes its field
      change('SHOP', 'lsn:4', customer({ creditStatus: 'blocked', email: 'b@x.io' })), // shop edits SF's field: conflict
    ]);
    assert.deepEqual(results.map((r) => r.decision), ['apply', 'echo', 'apply', 'echo', 'apply', 'apply', 'conflict']);
    assert.equal(results[0].writes[0].target, 'SALESFORCE');
    assert.ok(!results[0].writes[0].fields?.includes('creditStatus'), 'the shop does not write a field Salesforce owns');
    assert.equal(results[2].writes[0].target, 'SHOP');
    assert.deepEqual(results[2].writes[0].fields, ['creditStatus']);
    assert.equal(results[4].writes[0].target, 'SALESFORCE');
    assert.deepEqual(results[4].writes[0].fields, ['email']);
    const conflict = results[6];
    assert.deepEqual(conflict.audit.conflictFields, ['creditStatus']);
    assert.equal(conflict.writes[0].target, 'SHOP');
    assert.equal(conflict.writes[0].record.creditStatus, 'good');
    assert.equal(conflict.newState.base?.email, 'b@x.io');
  });

  test('one change touching an owned and a foreign field does both: applies one, re-asserts the other', () => {
    const policy: Policy = { ...basePolicy, entity: 'customer', master: 'SHOP', fieldMasters: { creditStatus: 'SALESFORCE' } };
    const c = (over: Rec = {}): Rec => ({ customerId: 'C-1', email: 'a@x.io', creditStatus: 'good', ...over });
    const results = run(policy, [
      change('SHOP', 'lsn:1', c()), change('SALESFORCE', 'r:1', c()),
      change('SHOP', 'lsn:2', c({ email: 'new@x.io', creditStatus: 'blocked' })),
    ]);
    const r = results[2];
    assert.equal(r.decision, 'conflict');
    const targets = r.writes.map((w) => `${w.target}:${w.fields?.join(',')}`).sort();
    assert.deepEqual(targets, ['SALESFORCE:email', 'SHOP:creditStatus']);
  });

  test('a record first seen on the side that owns nothing is a conflict with an alert', () => {
    const [r] = run(basePolicy, [change('SHOP', 'lsn:1', product())]);
    assert.equal(r.decision, 'conflict');
    assert.equal(r.alerts[0].kind, 'unmastered-create');
    assert.deepEqual(r.writes, []);
    const [accepted] = run({ ...basePolicy, conflictPolicy: 'accept' }, [change('SHOP', 'lsn:1', product())]);
    assert.equal(accepted.writes[0].target, 'SALESFORCE');
  });
});

describe('decide: deletes', () => {
  const shopMaster: Policy = { ...basePolicy, entity: 'order', master: 'SHOP', deletePolicy: 'propagate', deactivateField: null };
  const order = { orderNumber: '1042', status: 'paid', total: '59.97' };

  test('a delete on the master side is propagated (policy propagate), and its echo is acknowledged', () => {
    const results = run(shopMaster, [
      change('SHOP', 'lsn:1', order), change('SALESFORCE', 'r:1', order),
      change('SHOP', 'lsn:2', order, 'DELETE'),
      change('SALESFORCE', 'r:2', null, 'DELETE'),
    ]);
    assert.equal(results[2].decision, 'apply');
    assert.equal(results[2].writes[0].op, 'DELETE');
    assert.equal(results[2].writes[0].target, 'SALESFORCE');
    assert.equal(results[2].writes[0].record.orderNumber, '1042');
    assert.equal(results[3].decision, 'echo');
    assert.equal(results[3].newState.deleted, true);
  });

  test('delete policy ignore keeps the other side; deactivate marks it inactive', () => {
    const [, , ignored] = run({ ...shopMaster, deletePolicy: 'ignore' }, [
      change('SHOP', 'lsn:1', order), change('SALESFORCE', 'r:1', order), change('SHOP', 'lsn:2', order, 'DELETE'),
    ]);
    assert.deepEqual(ignored.writes, []);
    const [, , deactivated] = run({ ...basePolicy, deletePolicy: 'deactivate' }, [
      change('SALESFORCE', 'r:1', product()), change('SHOP', 'lsn:1', product()), change('SALESFORCE', 'r:2', null, 'DELETE'),
    ]);
    assert.equal(deactivated.writes[0].op, 'UPSERT');
    assert.deepEqual(deactivated.writes[0].fields, ['active']);
    assert.equal(deactivated.writes[0].record.active, false);
  });

  test('a delete on the non-master side is a conflict; reassert-master re-creates the record there', () => {
    const results = run(shopMaster, [
      change('SHOP', 'lsn:1', order), change('SALESFORCE', 'r:1', order), change('SALESFORCE', 'r:2', null, 'DELETE'),
    ]);
    const r = results[2];
    assert.equal(r.decision, 'conflict');
    assert.equal(r.writes[0].target, 'SALESFORCE');
    assert.equal(r.writes[0].op, 'UPSERT');
    assert.equal(r.writes[0].record.total, '59.97');
  });
});

describe('decide: stock delta merge', () => {
  const stockPolicy: Policy = {
    ...basePolicy, entity: 'stock', master: 'BOTH', deltaField: 'quantity', deletePolicy: 'ignore', deactivateField: null,
  };
  const stock = (quantity: number): Rec => ({ sku: 'SKU-1', warehouseCode: 'WH-1', quantity });

  function agreedAt(q: number): KeyState {
    const [, echo] = run(stockPolicy, [change('SHOP', 'lsn:0', stock(q)), change('SALESFORCE', 'r:0', stock(q))]);
    assert.equal(echo.decision, 'echo');
    return echo.newState;
  }

  test('a sale in the shop and a restock in Salesforce in the same window both survive', () => {
    const start = agreedAt(10);
    const results = run(stockPolicy, [
      change('SHOP', 'lsn:1', stock(9)), // one sold
      change('SALESFORCE', 'r:1', stock(15)), // five restocked, on top of the 10 Salesforce knew
    ], start);
    const last = results[1];
    assert.equal(last.newState.base?.quantity, 14);
    const final = Object.fromEntries(last.writes.map((w) => [w.target, w.record.quantity]));
    assert.deepEqual(final, { SHOP: 14, SALESFORCE: 14 });
    // last-writer-wins would have kept 15 (or 9): the merge keeps both movements
  });

  test('after the merged value lands on both sides, the echoes settle without further writes', () => {
    const start = agreedAt(10);
    const results = run(stockPolicy, [
      change('SHOP', 'lsn:1', stock(9)),
      change('SALESFORCE', 'r:1', stock(15)),
      change('SALESFORCE', 'r:2', stock(14)), // sink coalesced 9 and 14 into one write of 14
      change('SHOP', 'lsn:2', stock(14)),
    ], start);
    assert.deepEqual(results.map((r) => r.decision), ['apply', 'apply', 'echo', 'echo']);
    assert.equal(results[3].newState.inFlight.length, 0);
    assert.deepEqual(results[3].newState.sideValues, { SHOP: 14, SALESFORCE: 14 });
  });

  test('a merge below zero raises a negative-stock alert', () => {
    const start = agreedAt(2);
    const results = run(stockPolicy, [change('SHOP', 'lsn:1', stock(0)), change('SALESFORCE', 'r:1', stock(-1))], start);
    const r = results[1];
    assert.equal(r.newState.base?.quantity, -3);
    assert.equal(r.alerts.length, 1);
    assert.equal(r.alerts[0].kind, 'negative-stock');
    assert.equal(r.audit.alert, true);
    assert.equal(results[0].alerts.length, 0);
  });

  const repair = (c: Change): Change => ({ ...c, repair: true });

  test('a drift repair brings what the change events missed on each side: both movements merge by delta', () => {
    const start = agreedAt(10);
    const results = run(stockPolicy, [repair(change('SHOP', 'drift:1:shop', stock(8))), repair(change('SALESFORCE', 'drift:1:sf', stock(15)))], start);
    assert.equal(results[1].newState.base?.quantity, 13);
    assert.deepEqual(Object.fromEntries(results[1].writes.map((w) => [w.target, w.record.quantity])), { SHOP: 13, SALESFORCE: 13 });
  });

  test('a drift repair of a side that missed nothing still sends the merged value to the side that differs', () => {
    const start = agreedAt(10);
    // a sale merged and written to Salesforce, where the write never landed (dead-lettered): no echo came
    const [sale] = run(stockPolicy, [change('SHOP', 'lsn:1', stock(9))], start);
    const plain = decide(sale.newState, KEY, change('SALESFORCE', 'r:1', stock(10)), stockPolicy);
    assert.equal(plain.decision, 'noop', 'the same value again is no change');
    const repaired = decide(sale.newState, KEY, repair(change('SALESFORCE', 'drift:1:sf', stock(10))), stockPolicy);
    assert.deepEqual(repaired.writes.map((w) => [w.target, w.record.quantity]), [['SALESFORCE', 9]]);
  });

  test('a drift repair of a side that lacks the record writes the whole record there', () => {
    const start = agreedAt(10);
    const plain = decide(start, KEY, change('SALESFORCE', 'r:1', null, 'DELETE'), stockPolicy);
    assert.equal(plain.writes.length, 0, 'a delete is ignored');
    const r = decide(start, KEY, repair(change('SALESFORCE', 'drift:1:sf', null, 'DELETE')), stockPolicy);
    assert.deepEqual(r.writes.map((w) => [w.target, w.op, w.fields, w.record.quantity]), [['SALESFORCE', 'UPSERT', null, 10]]);
    assert.equal(r.newState.sideValues.SALESFORCE, null);
  });

  // a record read back by SOQL after an expired replay id: no origin, our write's change event possibly lost
  const reread = (q: number): Change => ({ ...change('SALESFORCE', `sf:Stock_Level__c:reread:${clock}:a01`, stock(q)), ours: false });

  test('a re-read showing our own write (its change event expired) is our write: the sale behind it counts once', () => {
    const [sale] = run(stockPolicy, [change('SHOP', 'lsn:1', stock(9))], agreedAt(10));
    assert.deepEqual(sale.writes.map((w) => [w.target, w.record.quantity]), [['SALESFORCE', 9]]);
    const r = decide(sale.newState, KEY, reread(9), stockPolicy);
    assert.equal(r.decision, 'echo');
    assert.equal(r.newState.base?.quantity, 9);
    assert.equal(r.writes.length, 0);
  });

  test('a re-read showing our write and a restock after it counts the restock once, the sale once', () => {
    const [sale] = run(stockPolicy, [change('SHOP', 'lsn:1', stock(9))], agreedAt(10));
    const r = decide(sale.newState, KEY, reread(14), stockPolicy);
    assert.equal(r.newState.base?.quantity, 14);
    assert.deepEqual(r.writes.map((w) => [w.target, w.record.quantity]), [['SHOP', 14]]);
  });

  test('our write landing after the re-read that took it as landed corrects the merge: the sale counts once, the restock once', () => {
    const [sale] = run(stockPolicy, [change('SHOP', 'lsn:1', stock(9))], agreedAt(10));
    // the org holds 15 (10 and a restock of 5); our 9 is still held by the sink
    const read = decide(sale.newState, KEY, reread(15), stockPolicy);
    const landed = decide(read.newState, KEY, { ...change('SALESFORCE', 'r:2', stock(9)), ours: true }, stockPolicy);
    assert.equal(landed.newState.base?.quantity, 14);
    assert.deepEqual(landed.writes.map((w) => [w.target, w.record.quantity]), [['SALESFORCE', 14], ['SHOP', 14]]);
  });

  test('a first report is sent to the other side as is', () => {
    const [r] = run(stockPolicy, [change('SALESFORCE', 'r:1', stock(7))]);
    assert.equal(r.decision, 'apply');
    assert.equal(r.writes[0].target, 'SHOP');
    assert.equal(r.writes[0].record.quantity, 7);
  });
});

describe('decide: state', () => {
  test('state survives a JSON round trip (compacted changelog) and decisions continue identically', () => {
    const [a] = run(basePolicy, [change('SALESFORCE', 'replay:1', product())]);
    const restored = parseState(serializeState(a.newState));
    assert.deepEqual(restored, a.newState);
    const next = change('SHOP', 'lsn:1', product());
    assert.deepEqual(decide(restored, KEY, next, basePolicy), decide(a.newState, KEY, next, basePolicy));
  });

  test('decide is deterministic and does not mutate its input state', () => {
    const [a] = run(basePolicy, [change('SALESFORCE', 'replay:1', product())]);
    const frozen = structuredClone(a.newState);
    const c = change('SALESFORCE', 'replay:2', product({ price: '5.00' }));
    const r1 = decide(a.newState, KEY, c, basePolicy);
    const r2 = decide(a.newState, KEY, c, basePolicy);
    assert.deepEqual(r1, r2);
    assert.deepEqual(a.newState, frozen);
  });

  test('remembered positions are bounded by the policy', () => {
    const policy: Policy = { ...basePolicy, seenPositions: 3 };
    const results = run(policy, Array.from({ length: 6 }, (_, i) => change('SALESFORCE', `r:${i}`, product({ price: `${i + 1}.00` }))));
    assert.deepEqual(results[5].newState.seenPositions, ['SALESFORCE:r:3', 'SALESFORCE:r:4', 'SALESFORCE:r:5']);
  });

  /**
   * Salesforce sets 12.00 (a write to the shop that never echoes: the sink skipped it), then reverts to
   * 10.00 (a second write to the shop, in flight); then a person in the shop types 12.00 back. That
   * edit equals the forgotten write: taken for its echo, the shop would keep 12.00 against the master.
   */
  function revertAfterSilentWrite(forget: (r: ReturnType<typeof decide>) => KeyState) {
    const [r1, r2, r3] = run(basePolicy, [
      change('SALESFORCE', 'replay:1', product({ price: '10.00' })),
      change('SHOP', 'lsn:1', product({ price: '10.00' })), // echo of the first write
      change('SALESFORCE', 'replay:2', product({ price: '12.00' })), // write to the shop that never echoes
    ]);
    assert.deepEqual([r1.decision, r2.decision, r3.decision], ['apply', 'echo', 'apply']);
    assert.equal(r3.newState.inFlight.length, 1);
    const start = forget(r3);
    const [revert, person] = run(basePolicy, [
      change('SALESFORCE', 'replay:3', product({ price: '10.00' })), // Salesforce reverts: write 10.00 to the shop
      change('SHOP', 'lsn:2', product({ price: '12.00' })), // a person in the shop sets the old price again
    ], start);
    assert.equal(revert.decision, 'apply');
    return person;
  }

  test('a write whose echo never comes (skipped by the sink) is forgotten, so a later revert is not mistaken for an echo', () => {
    const person = revertAfterSilentWrite((r) => dropInFlight(r.newState, [r.writes[0].id]));
    assert.equal(person.decision, 'conflict', 'the edit is the person\'s, not the echo of the forgotten write');
    assert.deepEqual(person.audit.acknowledged, []);
    assert.deepEqual(person.writes.map((w) => [w.target, w.reason, w.record.price]), [['SHOP', 'reassert-master', '10.00']]);
  });

  test('a write whose echo never comes is forgotten after the in-flight TTL, so a later revert is not mistaken for an echo', () => {
    const person = revertAfterSilentWrite((r) => { clock += basePolicy.inFlightTtlMs + 1_000; return r.newState; });
    assert.equal(person.decision, 'conflict');
    assert.deepEqual(person.writes.map((w) => [w.target, w.reason, w.record.price]), [['SHOP', 'reassert-master', '10.00']]);
  });

  test('(control) while the silent write is still remembered, the same edit is taken for its echo', () => {
    // shows that the two tests above can tell the difference: without forgetting, the edit is swallowed
    const person = revertAfterSilentWrite((r) => r.newState);
    assert.equal(person.decision, 'echo');
  });

  test('a corrupt state value is rejected with a reason', () => {
    assert.throws(() => parseState('{"v":2}'), /unknown shape/);
    assert.throws(() => parseState('not json'), /not JSON/);
  });
});

describe('decide: per-field masters on a new record, long lists in flight', () => {
  const ticketPolicy: Policy = { ...basePolicy, entity: 'support_ticket', master: 'SHOP', fieldMasters: { status: 'SALESFORCE', agent: 'SALESFORCE' }, deletePolicy: 'ignore', seedOnCreate: true };
  const ticket = (over: Rec = {}): Rec => ({ ticketId: 'T-1', subject: 'Broken mug', status: 'open', agent: null, ...over });

  test('a record new on the shop is created in Salesforce with the shop\'s values of the fields Salesforce owns (where the entity seeds); from then on they are Salesforce\'s', () => {
    const results = run(ticketPolicy, [
      change('SHOP', 'lsn:1', ticket()),
      { ...change('SALESFORCE', 'replay:1', ticket()), ours: true }, // the Case we created, with the status we sent
      change('SALESFORCE', 'replay:2', ticket({ status: 'closed' })), // an agent closes it
      change('SHOP', 'lsn:2', ticket({ status: 'closed' })), // our write to the shop comes back
      change('SHOP', 'lsn:3', ticket({ status: 'open' })), // the shop reopens it: Salesforce owns the status
    ]);
    assert.deepEqual(results.map((r) => r.decision), ['apply', 'echo', 'apply', 'echo', 'conflict']);
    assert.deepEqual(results[0].writes[0].fields, ['status', 'subject', 'ticketId'], 'the status goes with the creation; the agent, empty, does not');
    const [unseeded] = run({ ...ticketPolicy, seedOnCreate: false }, [change('SHOP', 'lsn:9', ticket())]);
    assert.deepEqual(unseeded!.writes[0]!.fields, ['subject', 'ticketId'], 'an entity that does not seed leaves the other side\'s fields to it');
    assert.deepEqual([results[2].writes[0].target, results[2].writes[0].fields], ['SHOP', ['status']]);
    assert.deepEqual(results[4].writes.map((w) => [w.target, w.record.status]), [['SHOP', 'closed']], 'Salesforce\'s status re-asserted');
  });

  test('a write of a long list keeps a short digest in flight, and its echo is still known by its values', () => {
    const policy: Policy = { ...basePolicy, entity: 'campaign_segment', nestedFields: ['members'], deactivateField: null };
    const members = Array.from({ length: 5_000 }, (_, i) => ({ customerId: `C-${i}`, status: 'Sent' }));
    const segment = (over: Rec = {}): Rec => ({ segmentId: 'S-1', name: 'Spring', members, ...over });
    const [created, echo] = run(policy, [
      change('SALESFORCE', 'replay:1', segment()),
      // the shop's rows come back, origin unknown: told by what we wrote (the members in another key order)
      change('SHOP', 'lsn:1', segment({ members: members.map((m) => ({ status: m.status, customerId: m.customerId })) })),
    ]);
    const inFlight = created.newState.inFlight[0]!;
    assert.equal(typeof inFlight.values.members, 'string');
    assert.ok(JSON.stringify(inFlight).length < 500, `the in-flight write takes ${JSON.stringify(inFlight).length} bytes`);
    assert.equal(echo.decision, 'echo');
    assert.deepEqual(echo.audit.acknowledged, [inFlight.id]);
    const other = run(policy, [change('SHOP', 'lsn:2', segment({ members: members.slice(1) }))], created.newState)[0]!;
    assert.equal(other.decision, 'conflict', 'a different list is no echo');
  });
});
