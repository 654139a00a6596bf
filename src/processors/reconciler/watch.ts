/**
 * Watches: a state of a record that should not last (an order whose payments do not match its
 * total). After each decision the agreed record is checked; the key's state remembers when the
 * watched state opened. The reconciler's punctuation raises one alert and an audit record for each
 * key still open after the watch's delay, and a key whose state ends after its alert gets an audit
 * record saying so. Kept in the key's state (changelog-backed), so a restart neither forgets an
 * open state nor alerts twice.
 */
import type { TopicNames } from '../../flows/topic-names.ts';
import { SUBJECTS } from '../../flows/topic-names.ts';
import type { Output } from '../../kafka/types.ts';
import type { Logger } from '../../observability/logger.ts';
import { watchAuditEvent } from '../../reconcile/audit.ts';
import type { Alert, KeyState, Policy } from '../../reconcile/types.ts';
import type { EntityState, WatchState } from './images.ts';
import type { Encode, Flow } from './outputs.ts';

/** The watch state after a decision: opened now, kept open (same start, same alert), or over (undefined). */
export function nextWatch(policy: Policy, rec: KeyState, current: WatchState | undefined, now: number): WatchState | undefined {
  const message = policy.watch && rec.base && !rec.deleted ? policy.watch.check(rec.base) : null;
  if (message === null) return undefined;
  return current ? { ...current, message } : { since: now, message, alerted: false };
}

/** The audit record of a watched state that ended after its alert (none otherwise). */
export async function clearedOutputs(shopId: string, entity: string, key: string, policy: Policy, before: WatchState | undefined, after: WatchState | undefined,
  now: number, names: TopicNames, encode: Encode): Promise<Output[]> {
  if (!before?.alerted || after || !policy.watch) return [];
  const event = watchAuditEvent({ shopId, entity, key, kind: policy.watch.kind, since: before.since, at: now, phase: 'cleared', message: `${policy.watch.kind} over after ${Math.round((now - before.since) / 1000)} s (was: ${before.message})` });
  return [{ topic: names.audit, key, value: await encode(SUBJECTS.audit, event) }];
}

export interface WatchContext {
  state: { entries(): Iterable<[string, EntityState]>; set(key: string, value: EntityState): void };
  now: number;
  log: Logger;
}

/** One alert and one audit record for each key whose watched state is open longer than its delay. */
export async function raiseOverdue(ctx: WatchContext, flows: Map<string, Flow>, shopId: string, names: TopicNames, encode: Encode,
  onAlert: (entity: string, alert: Alert) => void): Promise<Output[]> {
  const outputs: Output[] = [];
  for (const [key, state] of ctx.state.entries()) {
    const open = state.watch;
    const watch = state.entity ? flows.get(state.entity)?.policy.watch : undefined;
    if (!open || open.alerted || !watch || ctx.now - open.since < watch.afterMs) continue;
    ctx.state.set(key, { ...state, watch: { ...open, alerted: true } });
    const message = `${open.message}; open for ${Math.round((ctx.now - open.since) / 1000)} s`;
    const alert: Alert = { kind: watch.kind, key, message, fields: [] };
    ctx.log.warn({ entity: state.entity, key, kind: watch.kind, since: new Date(open.since).toISOString() }, message);
    onAlert(state.entity!, alert);
    const event = watchAuditEvent({ shopId, entity: state.entity!, key, kind: watch.kind, since: open.since, at: ctx.now, phase: 'overdue', message });
    outputs.push({ topic: names.audit, key, value: await encode(SUBJECTS.audit, event) });
  }
  return outputs;
}
