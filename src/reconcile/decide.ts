/**
 * The per-key reconciliation state machine (docs/design.md, "Reconciliation") — pure and deterministic:
 * the same state and change always give the same decision, writes (with the same ids) and new state.
 *
 * For a change from side S (T is the other side):
 *  1. duplicate: S's source position already seen for this key, or replayed (change.replayed) -> drop;
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
import { clonePlain } from '../entities/clone.ts';
import { atPrecision } from '../entities/precision.ts';
import { backfillRunOf, isRereadPosition } from '../flows/routed-change.ts';
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
  if (change.replayed) {
    return finish(prior, change, policy, { decision: 'duplicate', message: `source position ${change.sourcePosition} replayed: its record has taken a change at or past it` });
  }
  if (change.stale && change.backfill !== 'written') {
    return finish(prior, change, policy, { decision: 'duplicate', message: `older than the image kept for its record (${change.backfill ? 'a backfilled image a live change overtook' : 'a live change behind a backfilled image'})` });
  }
  if (change.op === 'UPSERT' && !change.record) throw new Error(`reconcile ${key}: an UPSERT from ${change.origin} carries no record`);
  const s: KeyState = clonePlain(prior);
  s.inFlight = s.inFlight.filter((w) => w.issuedAt >= change.eventTime - policy.inFlightTtlMs);
  s.seenPositions = rememberPosition(s.seenPositions, positionId, policy.seenPositions);
  if (change.stale) return decideOverwritten(s, change, policy);
  const before = (change.origin === 'SHOP' ? s.lastFromShop : s.lastFromSalesforce) ?? null;
  setLastFrom(s, change);
  if (change.backfill === 'written' && change.op === 'UPSERT') return decideBackfilled(s, change, policy, before?.sourcePosition ?? null);
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

/**
 * What an in-flight write keeps of a value: a digest for a nested field (a campaign's 5,000 members
 * would otherwise be kept once per write in flight), the value itself for the others.
 */
function writtenValue(policy: Policy, field: string, value: unknown): unknown {
  return policy.nestedFields?.includes(field) ? digest(value) : value;
}

/** A value read on S is the one an in-flight write put there. */
function isWritten(policy: Policy, S: Side, field: string, written: unknown, value: unknown): boolean {
  return policy.nestedFields?.includes(field) ? written === digest(value) : sameOn(policy, S, field, written, value);
}

function decideUpsert(s: KeyState, change: Change, policy: Policy, before: Snapshot | null): DecideResult {
  const S = change.origin;
  const T = otherSide(S);
  const rec = change.record as Rec;
  const echoCandidates = change.ours === undefined ? s.inFlight.filter((w) => w.target === S && w.op === 'UPSERT') : [];
  const acknowledged = change.ours === false ? [] : acknowledge(s, change, policy);
  const fields = comparableFields(s.base ?? {}, rec, policy, change.knownFields);
  if (change.ours && s.base !== null && !s.deleted) return decideOwnWrite(s, change, policy, fields, acknowledged, before);
  if (change.ours) {
    // a backfill writes first and hands its records over after: their echoes may come first
    return finish(s, change, policy, { decision: 'echo', acknowledged, message: `our write to ${S} came back before its cause was seen here` });
  }

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
    // where the entity says so, the fields T owns start with S's values (T has none yet: a new ticket's
    // status), and are T's from then on
    const seeded = policy.seedOnCreate ? fields.filter((f) => ownerOf(policy, f) === T && rec[f] !== null && rec[f] !== undefined) : [];
    const w = plan(s, change, T, 'UPSERT', [...owned, ...seeded], 'master-change', policy);
    return finish(s, change, policy, { decision: 'apply', writes: [w], changedFields: fields, acknowledged, message: `new on ${S}; sent to ${T}` });
  }

  const base = s.base;
  const isOurEcho = (f: string) => echoCandidates.some((w) => f in w.values && isWritten(policy, S, f, w.values[f], rec[f]));
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
function decideOwnWrite(s: KeyState, change: Change, policy: Policy, fields: string[], acknowledged: InFlightWrite[], before: Snapshot | null): DecideResult {
  const S = change.origin;
  const T = otherSide(S);
  const rec = change.record as Rec;
  const base = s.base as Rec;
  // what S showed before, for the fields its last change carried (the rest was filled in from the base)
  const shown = (f: string) => (before?.record && (!before.known?.length || before.known.includes(f)) ? before.record[f] : null);
  const changedOnS = (f: string) => !sameOn(policy, S, f, rec[f], shown(f));
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
  // a re-read record may hold our own write, its change event lost: it is known by its value, as a change of unknown origin
  const reread = isRereadPosition(change.sourcePosition);
  // our write coming back tells what S holds now; it is no change of S's own
  const acknowledged = change.ours === false && !reread ? [] : acknowledge(s, change, policy);
  if (change.ours || acknowledged.length > 0) {
    // a write a re-read took as landed came back only now: it landed after the read, whose delta counted it
    const late = acknowledged.at(-1)?.assumedOver;
    if (late !== undefined && s.base !== null) s.base = { ...s.base, [field]: (s.base[field] as number) + (acknowledged.at(-1)!.values[field] as number) - late };
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
  const delta = reported - (reread ? landedBeforeRead(s, S, field, baseValue) : (s.sideValues[S] ?? baseValue));
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

/**
 * A record the backfill has already written to T (Bulk API) before handing it over. With no earlier
 * state for the key it becomes the base, and nothing is written again. Otherwise earlier writes of ours
 * to T may have landed after the backfill's: T gets the fields S owns once more, unless T's last image
 * (its change stream is in commit order) already shows them and no write of ours to T is in flight.
 * Stock (owned by both): S's delta merges as any change of S, and T now holds what S reported.
 */
function decideBackfilled(s: KeyState, change: Change, policy: Policy, lastPosition: string | null): DecideResult {
  const S = change.origin;
  const T = otherSide(S);
  const rec = change.record as Rec;
  const idle = !s.inFlight.some((w) => w.target === T);
  // another part of the same record from the same run (an address after its customer) carries on from it
  const sameRun = lastPosition !== null && backfillRunOf(lastPosition) !== null && backfillRunOf(lastPosition) === backfillRunOf(change.sourcePosition);
  const fresh = idle && ((s.base === null && !s.deleted) || sameRun);
  if (policy.master === 'BOTH') {
    const field = policy.deltaField as string;
    const reported = rec[field] as number;
    if (fresh) {
      s.base = { ...s.base, ...rec };
      s.sideValues = { SHOP: reported, SALESFORCE: reported };
      return finish(s, change, policy, { decision: 'apply', changedFields: [field], message: `backfilled: ${field}=${reported} written to ${T} by the backfill` });
    }
    s.sideValues[T] = reported;
    const merged = decideDelta(s, change, policy);
    const differs = s.base !== null && (s.sideValues.SHOP !== s.base[field] || s.sideValues.SALESFORCE !== s.base[field]);
    const writes = merged.writes.length > 0 || s.windowPending || !differs ? merged.writes : windowed(s, change, policy);
    return finish(s, change, policy, { decision: 'apply', writes, alerts: merged.alerts, changedFields: [field], message: `backfilled over earlier changes (${merged.audit.message}); ${T} holds ${reported}` });
  }
  const owned = comparableFields(s.base ?? {}, rec, policy, change.knownFields).filter((f) => ownerOf(policy, f) === S);
  if (fresh) {
    s.base = { ...(s.base ?? rec), ...Object.fromEntries(owned.map((f) => [f, rec[f]])) };
    s.deleted = false;
    return finish(s, change, policy, { decision: 'apply', changedFields: owned, message: `backfilled: written to ${T} by the backfill` });
  }
  const prior = s.base === null || s.deleted ? rec : s.base;
  s.base = { ...prior, ...Object.fromEntries(owned.map((f) => [f, rec[f]])) };
  s.deleted = false;
  return finish(s, change, policy, { decision: 'apply', writes: writeUnlessHeld(s, change, T, owned, policy), changedFields: owned, message: `backfilled over earlier changes: the fields ${S} owns go to ${T} again unless it holds them` });
}

/**
 * A backfilled record older than the image kept for it: its values are stale, but the backfill wrote
 * them to T, possibly over a newer write of ours. T gets the base again (the fields S owns) unless its
 * last image shows them; for stock, T now holds the stale quantity and the merged value is written.
 */
function decideOverwritten(s: KeyState, change: Change, policy: Policy): DecideResult {
  const S = change.origin;
  const T = otherSide(S);
  if (s.base === null || s.deleted) return finish(s, change, policy, { decision: 'noop', message: 'a stale backfilled record of a record gone since' });
  if (policy.master === 'BOTH') {
    const field = policy.deltaField as string;
    const reported = (change.record as Rec | null)?.[field];
    if (typeof reported === 'number') s.sideValues[T] = reported;
    const writes = s.base[field] !== s.sideValues[T] ? windowed(s, change, policy) : [];
    return finish(s, change, policy, { decision: 'apply', writes, message: `a stale backfilled ${field} was written to ${T}: the merged ${String(s.base[field])} goes there again` });
  }
  const owned = comparableFields({}, s.base, policy).filter((f) => ownerOf(policy, f) === S);
  return finish(s, change, policy, { decision: 'apply', writes: writeUnlessHeld(s, change, T, owned, policy), message: `older than the image kept: the backfill may have overwritten a newer write to ${T}, so the base goes there again unless it holds it` });
}

/** A re-assertion of the base's `fields` to T, unless T's last image shows them and no write of ours to T is in flight. */
function writeUnlessHeld(s: KeyState, change: Change, T: Side, fields: string[], policy: Policy): PlannedWrite[] {
  const base = s.base as Rec;
  const lastT = (T === 'SHOP' ? s.lastFromShop : s.lastFromSalesforce)?.record ?? null;
  const held = lastT !== null && !s.inFlight.some((w) => w.target === T) && fields.every((f) => sameOn(policy, T, f, lastT[f], base[f]));
  return held || fields.length === 0 ? [] : [plan(s, change, T, 'UPSERT', fields, 'reassert-master', policy)];
}

/**
 * What S held before the org's own changes a re-read shows. Our newest write to S still in flight may
 * have landed before the read with its change event lost (an expired replay id): taken as landed, so
 * the change behind it is not counted twice. If its echo comes after all (the sink held it until the
 * re-read was done), the echo corrects the base (decideDelta).
 */
function landedBeforeRead(s: KeyState, S: Side, field: string, baseValue: number): number {
  const known = s.sideValues[S] ?? baseValue;
  const newest = [...s.inFlight].reverse().find((w) => w.target === S && w.op === 'UPSERT' && typeof w.values[field] === 'number');
  if (!newest || newest.assumedOver !== undefined) return known;
  newest.assumedOver = known;
  return newest.values[field] as number;
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
  const s: KeyState = clonePlain(state);
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
    (w.op === 'DELETE' || Object.entries(w.values).every(([f, v]) => (known && !known.includes(f)) || isWritten(policy, S, f, v, ((change.record ?? {}) as Rec)[f]))));
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
  if (op === 'UPSERT') for (const f of fields ?? comparableFields({}, record, policy)) values[f] = writtenValue(policy, f, record[f]);
  s.inFlight = boundInFlight([...s.inFlight, { id, target, op, values, causePosition: change.sourcePosition, issuedAt: change.eventTime }], policy.maxInFlight);
  return { id, target, op, record: clonePlain(record), fields: fields ? [...fields].sort() : null, reason };
}

/** A short digest of a value, the same for equal values whatever their objects' key order. */
function digest(value: unknown): string {
  const stable = (v: unknown): unknown => (Array.isArray(v) ? v.map(stable)
    : v !== null && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, stable((v as Rec)[k])])) : v);
  return `sha256:${createHash('sha256').update(JSON.stringify(stable(value) ?? null)).digest('hex').slice(0, 32)}`;
}

function mkAlert(kind: Alert['kind'], key: string, message: string, fields: string[]): Alert {
  return { kind, key, message, fields };
}

function setLastFrom(s: KeyState, change: Change): void {
  const snap: Snapshot = {
    record: change.record ? clonePlain(change.record as Rec) : null, ...(change.knownFields?.length ? { known: [...change.knownFields] } : {}), op: change.op,
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
