/**
 * The per-key reconciliation state machine (docs/design.md, "Reconciliation") — pure and deterministic:
 * the same state and change always give the same decision, writes (with the same ids) and new state.
 *
 * For a change from side S (T is the other side):
 *  1. duplicate: S's source position already seen for this key -> drop;
 *  2. echo: our own write coming back — known by its origin (change.ours), or, when the origin is
 *     unknown, by repeating writes we sent to S (in flight) -> acknowledge, never a conflict; fields S
 *     owns that changed in the same event (an automation reacting to our write) still go to T;
 *  3. fields S owns changed -> write them to T, move the base;
 *  4. fields T owns changed on S -> conflict: alert + policy (reassert-master writes T's value back to S;
 *     accept takes S's value into the base and sends it to T);
 *  5. master BOTH (stock): new = base + (reported by S - last known on S), written to both sides; a sale
 *     and a restock on different sides both survive; a result below zero raises an alert.
 */
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { atPrecision } from '../entities/precision.ts';
import { otherSide, ownerOf } from './policy.ts';
import { boundInFlight, emptyState, rememberPosition } from './state.ts';
import type {
  Alert, Change, Decision, DecideResult, InFlightWrite, KeyState, PlannedWrite, Policy, Rec, Side, Snapshot, WriteReason,
} from './types.ts';

export function decide(state: KeyState | null, key: string, change: Change, policy: Policy): DecideResult {
  const prior = state ?? emptyState(key);
  const positionId = `${change.origin}:${change.sourcePosition}`;
  if (prior.seenPositions.includes(positionId)) {
    return finish(prior, change, policy, { decision: 'duplicate', message: `source position ${change.sourcePosition} already seen` });
  }
  if (change.op === 'UPSERT' && !change.record) throw new Error(`reconcile ${key}: an UPSERT from ${change.origin} carries no record`);
  const s: KeyState = structuredClone(prior);
  s.inFlight = s.inFlight.filter((w) => w.issuedAt >= change.eventTime - policy.inFlightTtlMs);
  s.seenPositions = rememberPosition(s.seenPositions, positionId, policy.seenPositions);
  const before = (change.origin === 'SHOP' ? s.lastFromShop : s.lastFromSalesforce)?.record ?? null;
  setLastFrom(s, change);
  if (policy.master === 'BOTH') return decideDelta(s, change, policy);
  if (change.op === 'DELETE') return decideDelete(s, change, policy);
  return decideUpsert(s, change, policy, before);
}

interface Outcome {
  decision: Decision;
  writes?: PlannedWrite[];
  alerts?: Alert[];
  changedFields?: string[];
  conflictFields?: string[];
  acknowledged?: InFlightWrite[];
  message: string;
}

/** Two values of a field equal as side S stores them. */
function sameOn(policy: Policy, S: Side, field: string, a: unknown, b: unknown): boolean {
  const p = policy.precision[S]?.[field];
  return isDeepStrictEqual(atPrecision(p, a), atPrecision(p, b));
}

function decideUpsert(s: KeyState, change: Change, policy: Policy, before: Rec | null): DecideResult {
  const S = change.origin;
  const T = otherSide(S);
  const rec = change.record as Rec;
  const echoCandidates = change.ours === undefined ? s.inFlight.filter((w) => w.target === S && w.op === 'UPSERT') : [];
  const acknowledged = change.ours === false ? [] : acknowledge(s, change, policy);
  const fields = comparableFields(s.base ?? {}, rec, policy, change.knownFields);
  if (change.ours && s.base !== null && !s.deleted) return decideOwnWrite(s, change, policy, fields, acknowledged, before);

  if (s.base === null || s.deleted) {
    const owned = fields.filter((f) => ownerOf(policy, f) === S);
    if (owned.length === 0) {
      const alert = mkAlert('unmastered-create', s.key, `${policy.entity} ${s.key} appeared on ${S}, which owns none of its fields`, fields);
      if (policy.conflictPolicy === 'accept') {
        s.base = { ...rec };
        s.deleted = false;
        const w = plan(s, change, T, 'UPSERT', null, 'accept', policy);
        return finish(s, change, policy, { decision: 'conflict', writes: [w], alerts: [alert], conflictFields: fields, acknowledged, message: `created on non-master ${S}; accepted and sent to ${T}` });
      }
      return finish(s, change, policy, { decision: 'conflict', alerts: [alert], conflictFields: fields, acknowledged, message: `created on non-master ${S}; no master value to re-assert yet` });
    }
    s.base = { ...rec };
    s.deleted = false;
    const w = plan(s, change, T, 'UPSERT', owned, 'master-change', policy);
    return finish(s, change, policy, { decision: 'apply', writes: [w], changedFields: fields, acknowledged, message: `new on ${S}; sent to ${T}` });
  }

  const base = s.base;
  const isOurEcho = (f: string) => echoCandidates.some((w) => f in w.values && sameOn(policy, S, f, w.values[f], rec[f]));
  const changed = fields.filter((f) => !sameOn(policy, S, f, rec[f], base[f]) && !isOurEcho(f));
  const own = changed.filter((f) => ownerOf(policy, f) === S);
  const foreign = changed.filter((f) => ownerOf(policy, f) !== S);
  if (changed.length === 0) {
    return finish(s, change, policy, acknowledged.length
      ? { decision: 'echo', acknowledged, message: `echo of ${acknowledged.length} write(s) to ${S}` }
      : { decision: 'noop', message: 'no field changed' });
  }

  const newBase: Rec = { ...base };
  for (const f of own) newBase[f] = rec[f];
  const toT = [...own];
  const writes: PlannedWrite[] = [];
  const alerts: Alert[] = [];
  if (foreign.length > 0) {
    alerts.push(mkAlert('conflict', s.key, `${policy.entity} ${s.key}: ${foreign.join(', ')} changed on ${S}, owned by ${T}; policy ${policy.conflictPolicy}`, foreign));
    if (policy.conflictPolicy === 'accept') {
      for (const f of foreign) newBase[f] = rec[f];
      toT.push(...foreign);
    }
  }
  s.base = newBase;
  if (toT.length > 0) writes.push(plan(s, change, T, 'UPSERT', toT, own.length > 0 ? 'master-change' : 'accept', policy));
  if (foreign.length > 0 && policy.conflictPolicy === 'reassert-master') writes.push(plan(s, change, S, 'UPSERT', foreign, 'reassert-master', policy));
  return finish(s, change, policy, {
    decision: foreign.length > 0 ? 'conflict' : 'apply', writes, alerts, changedFields: changed, conflictFields: foreign, acknowledged,
    message: foreign.length > 0
      ? `conflict on ${foreign.join(', ')} (${policy.conflictPolicy})${own.length ? `; ${own.join(', ')} sent to ${T}` : ''}`
      : `${own.join(', ')} sent to ${T}`,
  });
}

/**
 * Our own write came back from S: it acknowledges what we sent and is never a conflict. Fields S owns
 * that changed on S in the same transaction (an org automation or a trigger reacting to our write:
 * different from what S last showed, or set on the record we created) move the base and go to T like
 * any change of S's own fields; a field S owns but never set is no change.
 */
function decideOwnWrite(s: KeyState, change: Change, policy: Policy, fields: string[], acknowledged: InFlightWrite[], before: Rec | null): DecideResult {
  const S = change.origin;
  const T = otherSide(S);
  const rec = change.record as Rec;
  const base = s.base as Rec;
  const changedOnS = (f: string) => !sameOn(policy, S, f, rec[f], before ? before[f] : null);
  const own = fields.filter((f) => ownerOf(policy, f) === S && changedOnS(f) && !sameOn(policy, S, f, rec[f], base[f]));
  if (own.length === 0) {
    return finish(s, change, policy, { decision: 'echo', acknowledged, message: `our write to ${S} came back${acknowledged.length ? ` (${acknowledged.length} acknowledged)` : ''}` });
  }
  s.base = { ...base };
  for (const f of own) s.base[f] = rec[f];
  const w = plan(s, change, T, 'UPSERT', own, 'master-change', policy);
  return finish(s, change, policy, { decision: 'apply', writes: [w], changedFields: own, acknowledged, message: `our write to ${S} came back with ${own.join(', ')} changed there; sent to ${T}` });
}

function decideDelete(s: KeyState, change: Change, policy: Policy): DecideResult {
  const S = change.origin;
  const T = otherSide(S);
  const acknowledged = change.ours === false ? [] : acknowledge(s, change, policy);
  if (change.ours || acknowledged.some((w) => w.op === 'DELETE')) {
    return finish(s, change, policy, { decision: 'echo', acknowledged, message: `echo of our delete on ${S}` });
  }
  if (s.base === null || s.deleted) return finish(s, change, policy, { decision: 'noop', acknowledged, message: 'delete of a record already gone' });
  const last = s.base;
  if (policy.master === S) {
    if (policy.deletePolicy === 'ignore') {
      return finish(s, change, policy, { decision: 'apply', acknowledged, message: `deleted on master ${S}; kept on ${T} (delete policy ignore)` });
    }
    if (policy.deletePolicy === 'deactivate' && policy.deactivateField) {
      s.base = { ...last, [policy.deactivateField]: false };
      const w = plan(s, change, T, 'UPSERT', [policy.deactivateField], 'deactivate', policy);
      return finish(s, change, policy, { decision: 'apply', writes: [w], changedFields: [policy.deactivateField], acknowledged, message: `deleted on master ${S}; deactivated on ${T}` });
    }
    const w = plan(s, change, T, 'DELETE', null, 'delete', policy, last);
    s.base = null;
    s.deleted = true;
    return finish(s, change, policy, { decision: 'apply', writes: [w], acknowledged, message: `deleted on master ${S}; deleted on ${T}` });
  }
  const alert = mkAlert('conflict', s.key, `${policy.entity} ${s.key} deleted on ${S}, owned by ${T}; policy ${policy.conflictPolicy}`, []);
  if (policy.conflictPolicy === 'accept') {
    const w = plan(s, change, T, 'DELETE', null, 'accept', policy, last);
    s.base = null;
    s.deleted = true;
    return finish(s, change, policy, { decision: 'conflict', writes: [w], alerts: [alert], acknowledged, message: `deleted on non-master ${S}; delete accepted and sent to ${T}` });
  }
  const w = plan(s, change, S, 'UPSERT', null, 'reassert-master', policy);
  return finish(s, change, policy, { decision: 'conflict', writes: [w], alerts: [alert], acknowledged, message: `deleted on non-master ${S}; re-created from ${T}'s value` });
}

function decideDelta(s: KeyState, change: Change, policy: Policy): DecideResult {
  const S = change.origin;
  const field = policy.deltaField as string;
  if (change.op === 'DELETE' || !change.record) {
    if (change.repair && s.base !== null) {
      // a drift check found S without the record: S holds nothing, so the merged value is written there
      s.sideValues[S] = null;
      return finish(s, change, policy, { decision: 'apply', writes: windowed(s, change, policy), changedFields: [field], message: `repair: ${S} lacks the record; ${field}=${String(s.base[field])} goes there` });
    }
    return finish(s, change, policy, { decision: 'noop', message: 'deletes of a delta-merged record are ignored' });
  }
  const rec = change.record as Rec;
  const reported = rec[field];
  if (typeof reported !== 'number' || !Number.isInteger(reported)) {
    throw new Error(`reconcile ${s.key}: ${field} from ${S} is not an integer (${JSON.stringify(reported)})`);
  }
  // our write coming back tells what S holds now; it is no change of S's own
  const acknowledged = change.ours === false ? [] : acknowledge(s, change, policy);
  if (change.ours || acknowledged.length > 0) {
    s.sideValues[S] = reported;
    // an older write of ours landing after a newer one (a replay after a crash) leaves S behind: write again
    const writes = s.base !== null && reported !== s.base[field] ? windowed(s, change, policy) : [];
    return finish(s, change, policy, { decision: 'echo', writes, acknowledged, message: `our ${field}=${reported} came back from ${S}` });
  }
  if (s.base === null) {
    s.base = { ...rec };
    s.sideValues[S] = reported;
    return finish(s, change, policy, { decision: 'apply', writes: windowed(s, change, policy), changedFields: [field], message: `new on ${S} with ${field}=${reported}` });
  }
  const baseValue = s.base[field] as number;
  const delta = reported - (s.sideValues[S] ?? baseValue);
  s.sideValues[S] = reported;
  if (delta === 0) {
    // a drift repair of a side that missed nothing: the merged value still goes to a side that differs
    if (change.repair) return finish(s, change, policy, { decision: 'apply', writes: windowed(s, change, policy), message: `repair: ${field} on ${S} is ${reported}, merged ${String(baseValue)}` });
    return finish(s, change, policy, { decision: 'noop', message: `${field} unchanged on ${S}` });
  }
  let merged = baseValue + delta;
  const alerts: Alert[] = [];
  if (merged < 0) {
    alerts.push(mkAlert('negative-stock', s.key, `${policy.entity} ${s.key}: merged ${field} is ${merged} (base ${baseValue}, ${delta >= 0 ? '+' : ''}${delta} on ${S}); ${policy.belowZero === 'clamp' ? 'clamped to 0' : 'kept'}`, [field]));
    if (policy.belowZero === 'clamp') merged = 0;
  }
  s.base = { ...s.base, [field]: merged };
  return finish(s, change, policy, {
    decision: 'apply', writes: windowed(s, change, policy), alerts, changedFields: [field],
    message: `${field} ${delta >= 0 ? '+' : ''}${delta} on ${S}: ${baseValue} -> ${merged}`,
  });
}

/** The delta writes now (no window), or none and the key marked for the window's flush. */
function windowed(s: KeyState, change: Change, policy: Policy): PlannedWrite[] {
  if (policy.windowMs > 0) {
    s.windowPending = true;
    return [];
  }
  return deltaWrites(s, change, policy);
}

/**
 * Delta merge: the base to every side whose last known value differs from it (the whole record to a
 * side that has never shown the key, so it is created there).
 */
function deltaWrites(s: KeyState, change: Change, policy: Policy): PlannedWrite[] {
  const field = policy.deltaField as string;
  const target = s.base?.[field];
  const writes: PlannedWrite[] = [];
  for (const side of ['SALESFORCE', 'SHOP'] as const) {
    const known = s.sideValues[side];
    if (known === target) continue;
    writes.push(plan(s, change, side, 'UPSERT', known === null ? null : [field], 'delta-merge', policy));
  }
  return writes;
}

/**
 * Ends a key's stock window: one write per side that differs from the merged value. `flushId` names the
 * flush (it is the writes' source position, so a replayed flush gives the same command ids).
 */
export function flushWindow(state: KeyState, flushId: string, eventTime: number, policy: Policy): { writes: PlannedWrite[]; newState: KeyState; change: Change } {
  const s: KeyState = structuredClone(state);
  s.windowPending = false;
  const change: Change = { origin: 'SHOP', sourcePosition: flushId, transactionId: flushId, eventTime, op: 'UPSERT', record: s.base };
  const writes = s.base ? deltaWrites(s, change, policy) : [];
  return { writes, newState: s, change };
}

/** Removes the in-flight writes to S this change confirms (the matching one and every older one to S). */
function acknowledge(s: KeyState, change: Change, policy: Policy): InFlightWrite[] {
  const S = change.origin;
  const known = change.knownFields?.length ? change.knownFields : null;
  const idx = s.inFlight.findIndex((w) => w.target === S && w.op === change.op &&
    (w.op === 'DELETE' || Object.entries(w.values).every(([f, v]) => (known && !known.includes(f)) || sameOn(policy, S, f, ((change.record ?? {}) as Rec)[f], v))));
  if (idx < 0) return [];
  const acked = s.inFlight.filter((w, i) => i <= idx && w.target === S);
  s.inFlight = s.inFlight.filter((w, i) => !(i <= idx && w.target === S));
  return acked;
}

function comparableFields(base: Rec, rec: Rec, policy: Policy, known?: string[]): string[] {
  const all = new Set([...Object.keys(base), ...Object.keys(rec)]);
  return [...all].filter((f) => !policy.ignoreFields.includes(f) && (!known?.length || known.includes(f))).sort();
}

function plan(s: KeyState, change: Change, target: Side, op: 'UPSERT' | 'DELETE', fields: string[] | null, reason: WriteReason, policy: Policy, deleted?: Rec): PlannedWrite {
  const record = op === 'DELETE' ? (deleted ?? s.base ?? {}) : (s.base as Rec);
  const id = createHash('sha256').update([s.key, change.origin, change.sourcePosition, target, op, reason].join('\u0000')).digest('hex').slice(0, 24);
  const values: Rec = {};
  if (op === 'UPSERT') for (const f of fields ?? comparableFields({}, record, policy)) values[f] = record[f];
  s.inFlight = boundInFlight([...s.inFlight, { id, target, op, values, causePosition: change.sourcePosition, issuedAt: change.eventTime }], policy.maxInFlight);
  return { id, target, op, record: structuredClone(record), fields: fields ? [...fields].sort() : null, reason };
}

function mkAlert(kind: Alert['kind'], key: string, message: string, fields: string[]): Alert {
  return { kind, key, message, fields };
}

function setLastFrom(s: KeyState, change: Change): void {
  const snap: Snapshot = {
    record: change.record ? structuredClone(change.record as Rec) : null, op: change.op,
    sourcePosition: change.sourcePosition, transactionId: change.transactionId, eventTime: change.eventTime,
  };
  if (change.origin === 'SHOP') s.lastFromShop = snap;
  else s.lastFromSalesforce = snap;
}

function finish(s: KeyState, change: Change, policy: Policy, o: Outcome): DecideResult {
  const writes = o.writes ?? [];
  const alerts = o.alerts ?? [];
  return {
    decision: o.decision,
    writes,
    alerts,
    newState: s,
    audit: {
      key: s.key, decision: o.decision, origin: change.origin, sourcePosition: change.sourcePosition,
      transactionId: change.transactionId, eventTime: change.eventTime,
      changedFields: o.changedFields ?? [], conflictFields: o.conflictFields ?? [],
      policy: o.decision === 'conflict' ? policy.conflictPolicy : null,
      alert: alerts.length > 0, writeIds: writes.map((w) => w.id), acknowledged: (o.acknowledged ?? []).map((w) => w.id),
      message: o.message,
    },
  };
}
