/**
 * What a drift repair sends, through the pipeline's own topics and never around them:
 * - an entity with a master: write commands (sync.out.salesforce / sync.out.shop) built by the
 *   entity's mapping from the master's record as read now — the owner's value of each field that
 *   differs, the whole record where the other side lacks it, the delete policy where the master
 *   lacks it — written by the sinks like any command (a Salesforce command re-asserts: it is sent even
 *   if our last write held the same values; a shop command is guarded by its time, so a newer change
 *   wins);
 * - an entity both sides own (stock): each side's current images as repair changes on
 *   sync.in.<entity>, the change events the reconciler missed, so it merges them by delta and writes
 *   the merged value where a side differs.
 */
import type { CanonicalChange, SalesforceWrite, ShopWrite } from '../entities/types.ts';
import type { RoutedChange } from '../flows/routed-change.ts';
import { commandsFor } from '../reconcile/commands.ts';
import { otherSide, ownerOf } from '../reconcile/policy.ts';
import type { PlannedWrite, Rec, Side } from '../reconcile/types.ts';
import type { Comparison, DriftFlow } from './compare.ts';

export interface Repair {
  salesforce: SalesforceWrite[];
  shop: ShopWrite[];
  routed: RoutedChange[];
}

/** One drift run: its id names the repair's source position, its start time is the repair's event time. */
export interface DriftRun {
  runId: string;
  shopId: string;
  startedAt: number;
}

const NONE: Repair = { salesforce: [], shop: [], routed: [] };

export function repairOf(flow: DriftFlow, c: Comparison, run: DriftRun): Repair {
  if (c.kind !== 'missing' && c.kind !== 'different' && c.kind !== 'extra') return NONE;
  return flow.policy.master === 'BOTH' ? { ...NONE, routed: missedChanges(flow, c, run) } : { ...NONE, ...masterCommands(flow, c, run) };
}

function masterCommands(flow: DriftFlow, c: Comparison, run: DriftRun): Pick<Repair, 'salesforce' | 'shop'> {
  const { policy } = flow;
  const R = flow.reference;
  const O = otherSide(R);
  const writes: PlannedWrite[] = [];
  const write = (target: Side, op: PlannedWrite['op'], record: Rec, fields: string[] | null) =>
    writes.push({ id: `${run.runId}:${target}:${writes.length}`, target, op, record, fields, reason: op === 'DELETE' ? 'delete' : 'reassert-master' });
  if (c.kind === 'different') {
    // each field from the side that owns it (a per-field master may be the other side)
    for (const owner of [R, O]) {
      const fields = c.fields.filter((f) => ownerOf(policy, f) === owner);
      if (fields.length > 0) write(otherSide(owner), 'UPSERT', c.records[owner]!, fields);
    }
  } else if (c.kind === 'missing') {
    const ref = c.records[R]!;
    const owned = Object.keys(ref).filter((f) => !policy.ignoreFields.includes(f) && ownerOf(policy, f) === R);
    if (owned.length > 0) write(O, 'UPSERT', ref, owned);
  } else {
    const other = c.records[O]!;
    if (policy.deletePolicy === 'propagate') write(O, 'DELETE', other, null);
    else if (policy.deletePolicy === 'deactivate' && policy.deactivateField) write(O, 'UPSERT', { ...other, [policy.deactivateField]: false }, [policy.deactivateField]);
  }
  const change: CanonicalChange = {
    shopId: run.shopId, entity: flow.entity.name, key: c.key, origin: R, sourcePosition: `drift:${run.runId}`, transactionId: `drift:${run.runId}`,
    eventTime: run.startedAt, op: 'UPSERT', sourceRecordId: null, sourceVersion: null, changeOrigin: null, record: null, knownFields: [],
  };
  // what each side holds now: an order line the master no longer has is deleted there
  return commandsFor(flow.entity.mapping, change, writes, c.records);
}

function missedChanges(flow: DriftFlow, c: Comparison, run: DriftRun): RoutedChange[] {
  const changes: RoutedChange[] = [];
  const common = { entity: flow.entity.name, key: c.key, transactionId: `drift:${run.runId}`, eventTime: run.startedAt, sourceVersion: null, changeOrigin: null, ours: false, repair: true };
  for (const origin of ['SHOP', 'SALESFORCE'] as const) {
    const images = c.images[origin];
    if (images.length === 0) {
      // the side lacks the record: a delete of its main part tells the reconciler so
      const main = Object.keys(origin === 'SHOP' ? flow.entity.flow.shop : flow.entity.flow.salesforce)[0]!;
      changes.push({ ...common, origin, part: main, op: 'DELETE', image: null, recordId: `drift:${c.key}`, sourcePosition: `drift:${run.runId}:${origin}:${main}` });
      continue;
    }
    for (const img of images) {
      changes.push({ ...common, origin, part: img.part, op: 'UPSERT', image: img.image, recordId: img.recordId, sourcePosition: `drift:${run.runId}:${origin}:${img.part}:${img.recordId}` });
    }
  }
  return changes;
}
