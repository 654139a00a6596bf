/**
 * Gathered many-part changes: a campaign's thousands of members arrive one change event each, and
 * deciding the whole segment once per member would build, compare and publish it thousands of times.
 * For an entity with a gather time (PolicyHooks.gatherMs) a change of a many-part only updates the
 * key's kept images and is remembered here; the punctuation decides the run once, gatherMs after its
 * first change (all open runs on a graceful stop). The run is the key's state (changelog-backed), so
 * a crash loses nothing; a change of the main part decides at once, the run's images with it.
 */
import type { PartSpec } from '../../entities/parts.ts';
import type { RoutedChange } from '../../flows/routed-change.ts';
import type { Output } from '../../kafka/types.ts';
import { emptyState, rememberPosition } from '../../reconcile/state.ts';
import { decideFromImages, type DecisionEnv, type SideChange } from './decision.ts';
import type { EntityState, Gathered } from './images.ts';
import type { Flow } from './outputs.ts';

/** The entity's gather time (ms; 0 = every change decided at once). */
export function gatherMsOf(flow: Flow): number {
  return flow.entity.hooks.gatherMs ?? 0;
}

/** True when a change of this part is gathered rather than decided at once. */
export function gathers(flow: Flow, many: boolean, isMain: boolean): boolean {
  return gatherMsOf(flow) > 0 && many && !isMain;
}

/**
 * Reads a gathered image alone (with the main part, no previous record) before it is kept: a bad one
 * fails with its change, which is dead-lettered, instead of staying in the state to fail the run.
 */
export function checkImage(flow: Flow, state: EntityState, spec: PartSpec, msg: RoutedChange): void {
  if (msg.op === 'DELETE' || !msg.image) return;
  const { entity } = flow;
  if (msg.origin === 'SHOP') {
    const input = entity.flow.shopInput({ ...state.shop, [spec.as]: { [msg.recordId]: msg.image } });
    if (input) entity.mapping.fromShopRow(input, null);
  } else {
    const input = entity.flow.salesforceInput({ ...state.salesforce, [spec.as]: { [msg.recordId]: msg.image } });
    if (input) entity.mapping.fromSalesforce(input, null);
  }
}

/**
 * The state with the change's image kept and the change remembered in its side's run; its source
 * position joins the seen ones, so a redelivery is still a duplicate. The many-part's images are
 * changed in place: copying a map of thousands of images for each change would make a run of n
 * changes cost n². (Nothing can fail after it; an aborted commit restores the partition's state.)
 */
export function gather(flow: Flow, state: EntityState, spec: PartSpec, msg: RoutedChange, now: number): EntityState {
  const side = msg.origin === 'SHOP' ? 'shop' : 'salesforce';
  const parts = state[side];
  const images = (parts[spec.as] ??= {}) as Record<string, Record<string, unknown>>;
  if (msg.op === 'DELETE') delete images[msg.recordId];
  else images[msg.recordId] = msg.image!;
  const rec = state.rec ?? emptyState(msg.key);
  const before = state.gathered?.[msg.origin];
  const ours = before?.ours === false || msg.ours === false ? false : before?.ours === null || msg.ours === null ? null : true;
  const run: Gathered = {
    since: before?.since ?? now, count: (before?.count ?? 0) + 1, ours,
    last: {
      origin: msg.origin, op: 'UPSERT', recordId: msg.recordId, sourcePosition: msg.sourcePosition, transactionId: msg.transactionId,
      eventTime: msg.eventTime, sourceVersion: msg.sourceVersion, changeOrigin: msg.changeOrigin, ours: msg.ours,
    },
  };
  return {
    ...state, [side]: parts, entity: flow.entity.name,
    rec: { ...rec, seenPositions: rememberPosition(rec.seenPositions, `${msg.origin}:${msg.sourcePosition}`, flow.policy.seenPositions) },
    gathered: { ...state.gathered, [msg.origin]: run },
  };
}

/** The decision of a gathered run: the last change's envelope, a position of its own (the run's are seen), ours only if all were. */
function runChange(run: Gathered): SideChange {
  return { ...run.last, sourcePosition: `${run.last.sourcePosition}~${run.count}`, ours: run.ours };
}

/** What a flush sees of a partition: its keys' states, the clock, and whether the processor is stopping. */
export interface GatherContext {
  state: { entries(): Iterable<[string, EntityState]>; set(key: string, value: EntityState): void };
  now: number;
  final: boolean;
}

/** Decides every run that is due (every open run when `final`). */
export async function flushGathered(ctx: GatherContext, flows: Map<string, Flow>, env: DecisionEnv): Promise<Output[]> {
  const outputs: Output[] = [];
  let runs = 0;
  for (const [key, initial] of [...ctx.state.entries()]) {
    if (!initial.gathered || !initial.entity) continue;
    const flow = flows.get(initial.entity);
    if (!flow) continue;
    let state = initial;
    for (const origin of ['SALESFORCE', 'SHOP'] as const) {
      const run = state.gathered?.[origin];
      if (!run || (!ctx.final && ctx.now - run.since < gatherMsOf(flow))) continue;
      runs++;
      const gathered = { ...state.gathered };
      delete gathered[origin];
      state = { ...state, gathered: Object.keys(gathered).length ? gathered : undefined };
      const parts = origin === 'SHOP' ? state.shop : state.salesforce;
      const input = origin === 'SHOP' ? flow.entity.flow.shopInput(parts) : flow.entity.flow.salesforceInput(parts);
      // the main part is not there (yet, or any more): its own change decides with these images
      if (!input) continue;
      try {
        const decided = await decideFromImages(flow, key, state, runChange(run), { ...env, now: ctx.now });
        state = decided.state;
        outputs.push(...decided.outputs);
      } catch (err) {
        // dropped, not retried on every tick: the key's next change meets the error again, and is dead-lettered with it
        env.log.error({ entity: flow.entity.name, key, origin, changes: run.count, err: (err as Error).message }, 'a gathered run could not be decided');
      }
    }
    if (state !== initial) ctx.state.set(key, state);
  }
  if (runs > 0) env.log.debug({ runs, final: ctx.final }, 'gathered changes decided');
  return outputs;
}
