/**
 * One decision of a key: the kept images of the changed side assemble into the canonical record, which
 * decide() judges (docs/design.md, "Reconciliation"); the result is the key's new state and the outputs
 * (canonical change, write commands, audit). A routed change is decided at once; a gathered run of
 * many-part changes (gather.ts) once, when it is flushed.
 */
import type { CanonicalChange, Op } from '../../entities/types.ts';
import type { RoutedChange } from '../../flows/routed-change.ts';
import type { TopicNames } from '../../flows/topic-names.ts';
import type { Output } from '../../kafka/types.ts';
import type { Logger } from '../../observability/logger.ts';
import type { WriteOrder } from '../../reconcile/commands.ts';
import { decide } from '../../reconcile/decide.ts';
import { emptyState, rememberPosition } from '../../reconcile/state.ts';
import type { Alert, KeyState } from '../../reconcile/types.ts';
import type { EntityState } from './images.ts';
import { decisionOutputs, type Encode, type Flow } from './outputs.ts';
import { clearedOutputs, nextWatch } from './watch.ts';

/** A change of one side as it is decided: a routed change's envelope, or the last of a gathered run. */
export type SideChange = Pick<RoutedChange, 'origin' | 'sourcePosition' | 'transactionId' | 'eventTime' | 'sourceVersion' | 'changeOrigin' | 'ours' | 'backfill' | 'repair'>
  & { op: Op; recordId: string | null; /** older than the image kept, where a backfill is involved (images.ts, isStale) */ stale?: boolean };

/** What a decision needs around it. */
export interface DecisionEnv {
  shopId: string;
  names: TopicNames;
  encode: Encode;
  onAlert: (entity: string, alert: Alert) => void;
  log: Logger;
  /** Wall clock (ms): when a stock window opens. */
  now: number;
}

/**
 * The key's reconcile state with a change's source position remembered, for a change kept without a
 * decision (a child before its parent, a partial echo): delivered again later, it is a duplicate.
 */
export function seen(rec: KeyState | null, key: string, change: Pick<SideChange, 'origin' | 'sourcePosition'>, limit: number): KeyState {
  const prior = rec ?? emptyState(key);
  return { ...prior, seenPositions: rememberPosition(prior.seenPositions, `${change.origin}:${change.sourcePosition}`, limit) };
}

/**
 * Decides `change` on a key whose state already holds the change's images. Returns the new state, and
 * no outputs when there is nothing to decide yet (our own line items coming back one by one).
 */
export async function decideFromImages(flow: Flow, key: string, state: EntityState, change: SideChange, env: DecisionEnv): Promise<{ state: EntityState; outputs: Output[] }> {
  const { entity, policy } = flow;
  const shopSide = change.origin === 'SHOP';
  const sideSpec = shopSide ? entity.flow.shop : entity.flow.salesforce;
  const parts = shopSide ? state.shop : state.salesforce;
  const input = shopSide ? entity.flow.shopInput(parts) : entity.flow.salesforceInput(parts);
  const envelope: CanonicalChange = {
    shopId: env.shopId, entity: entity.name, key, origin: change.origin, sourcePosition: change.sourcePosition,
    transactionId: change.transactionId, eventTime: change.eventTime, op: change.op, sourceRecordId: change.recordId,
    sourceVersion: change.sourceVersion, changeOrigin: change.changeOrigin, record: null, knownFields: [],
  };
  const lastBySide = { SHOP: state.rec?.lastFromShop?.record ?? null, SALESFORCE: state.rec?.lastFromSalesforce?.record ?? null };
  const previousSame = lastBySide[change.origin];
  // what an image does not hold (a shop-only field, the status behind an ambiguous stage) comes
  // from the last agreed record; only the fields the images at hand carry are compared
  const previous = state.rec?.base ?? previousSame;
  const record = change.op === 'DELETE'
    ? previousSame
    : shopSide ? entity.mapping.fromShopRow(input, previous) : entity.mapping.fromSalesforce(input, previous);
  let knownFields = change.op === 'DELETE' ? [] : shopSide ? entity.mapping.knownFromShop(input, null) : entity.mapping.knownFromSalesforce(input, null);
  if (!shopSide && change.op === 'UPSERT' && change.ours) {
    // our own writes come back one record at a time: a list made of several records (the line
    // items of an order) is incomplete until the last one arrives, so it is not compared
    const partial = Object.values(sideSpec).filter((p) => p.many && p.field).map((p) => p.field!);
    if (partial.length > 0 && record) {
      knownFields = (knownFields.length ? knownFields : Object.keys(record)).filter((f) => !partial.includes(f));
      if (knownFields.length === 0) return { state: { ...state, rec: seen(state.rec, key, change, policy.seenPositions) }, outputs: [] };
    }
  }
  const canonical: CanonicalChange = { ...envelope, record, knownFields };
  const result = decide(state.rec, key, { ...canonical, ours: change.ours ?? undefined, backfill: change.backfill, stale: change.stale, repair: change.repair }, policy);
  // commands never go back in version or time for the key (images.ts, EntityState.written)
  const before = state.written?.[change.origin];
  const version = change.sourceVersion === null ? before?.sourceVersion ?? null : Math.max(change.sourceVersion, before?.sourceVersion ?? change.sourceVersion);
  const order: WriteOrder = { sourceVersion: version, eventTime: Math.max(change.eventTime, before?.eventTime ?? change.eventTime) };
  const windowOpenedAt = result.newState.windowPending ? state.windowOpenedAt ?? env.now : undefined;
  const watch = nextWatch(policy, result.newState, state.watch, env.now);
  for (const alert of result.alerts) {
    env.log.warn({ entity: entity.name, key, kind: alert.kind, fields: alert.fields }, alert.message);
    env.onAlert(entity.name, alert);
  }
  const outputs = [
    ...await decisionOutputs({
      entity, change: canonical, writes: result.writes, lastBySide, baseBefore: state.rec?.base ?? null, order, audit: result.audit,
      publish: result.decision !== 'duplicate',
    }, env.names, env.encode),
    ...await clearedOutputs(env.shopId, entity.name, key, policy, state.watch, watch, env.now, env.names, env.encode),
  ];
  const written = { ...state.written, [change.origin]: order };
  return { state: { ...state, entity: entity.name, rec: result.newState, windowOpenedAt, watch, written }, outputs };
}
