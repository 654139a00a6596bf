/**
 * Stock windows: a delta-merged key's changes move its base at once, and its writes wait until the
 * key's window ends; then each side that differs from the merged value gets one write. The window's
 * contents are the key's state (changelog-backed), so a crash loses nothing and the flush, made in
 * one Kafka transaction with the state change, applies nothing twice.
 */
import type { TopicNames } from '../../flows/topic-names.ts';
import type { Output } from '../../kafka/types.ts';
import { flushWindow } from '../../reconcile/decide.ts';
import type { Logger } from '../../observability/logger.ts';
import type { EntityState } from './images.ts';
import { decisionOutputs, type Encode, type Flow } from './outputs.ts';

/** What a flush sees of a partition: its keys' states, the clock, and whether the processor is stopping. */
export interface WindowContext {
  state: { entries(): Iterable<[string, EntityState]>; set(key: string, value: EntityState): void };
  now: number;
  final: boolean;
  log: Logger;
}

export async function flushDueWindows(ctx: WindowContext, flows: Map<string, Flow>, shopId: string, names: TopicNames, encode: Encode): Promise<Output[]> {
  const due: Array<[string, EntityState, Flow]> = [];
  for (const [key, state] of ctx.state.entries()) {
    if (!state.rec?.windowPending || state.windowOpenedAt === undefined || !state.entity) continue;
    const flow = flows.get(state.entity);
    if (!flow) continue;
    if (ctx.final || ctx.now - state.windowOpenedAt >= flow.policy.windowMs) due.push([key, state, flow]);
  }
  const outputs: Output[] = [];
  for (const [key, state, flow] of due) {
    const flushId = `window:${state.windowOpenedAt}`;
    const { writes, newState, change } = flushWindow(state.rec!, flushId, ctx.now, flow.policy);
    ctx.state.set(key, { ...state, rec: newState, windowOpenedAt: undefined });
    const lastBySide = { SHOP: state.rec!.lastFromShop?.record ?? null, SALESFORCE: state.rec!.lastFromSalesforce?.record ?? null };
    outputs.push(...await decisionOutputs({
      entity: flow.entity,
      change: { shopId, entity: flow.entity.name, key, origin: change.origin, sourcePosition: flushId, transactionId: flushId, eventTime: ctx.now, op: 'UPSERT', sourceRecordId: null, sourceVersion: null, changeOrigin: null, record: newState.base, knownFields: [] },
      writes, lastBySide, baseBefore: state.rec!.base, publish: false,
      audit: {
        key, decision: 'apply', origin: change.origin, sourcePosition: flushId, transactionId: flushId, eventTime: ctx.now,
        changedFields: flow.policy.deltaField ? [flow.policy.deltaField] : [], conflictFields: [], policy: null, alert: false,
        writeIds: writes.map((w) => w.id), acknowledged: [],
        message: `window ended: ${writes.length ? writes.map((w) => `${w.target} <- ${String(newState.base?.[flow.policy.deltaField ?? ''])}`).join(', ') : 'both sides already agree'}`,
      },
    }, names, encode));
  }
  if (due.length > 0) ctx.log.debug({ keys: due.length, final: ctx.final }, 'stock windows written');
  return outputs;
}
