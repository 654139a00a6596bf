/** The images the reconciler keeps per entity key: the latest of each part on each side. */
import type { Parts, PartSpec } from '../../entities/parts.ts';
import type { RoutedChange } from '../../flows/routed-change.ts';
import type { Origin } from '../../entities/types.ts';
import type { WriteOrder } from '../../reconcile/commands.ts';
import type { KeyState } from '../../reconcile/types.ts';
import type { SideChange } from './decision.ts';
import type { TakenEvent } from './replay.ts';

/** A run of many-part changes of one side waiting for one decision (gather.ts). */
export interface Gathered {
  /** When (wall clock, ms) the first of them came. */
  since: number;
  count: number;
  /** The last one: the decision's transaction, time and version. */
  last: SideChange;
  /** Every one of them our own write (null: some could not be told). */
  ours: boolean | null;
}

/** What the reconciler keeps per entity key: the reconcile state and the latest image of each part. */
export interface EntityState {
  /** The entity the key belongs to (keys of different entities share a state store). */
  entity?: string;
  rec: KeyState | null;
  shop: Parts;
  salesforce: Parts;
  /** Delta merge with a window: when (wall clock, ms) the key's open window started. */
  windowOpenedAt?: number;
  /** The entity's watched state, while the agreed record is in it (src/processors/reconciler/watch.ts). */
  watch?: WatchState;
  /**
   * The highest source version and time a decision of each side has given the key's commands. The
   * parts of one entity come through different partitions (a campaign's members, a product and its
   * price), so a change may be decided after one committed later at the source; its commands carry at
   * least these, or the shop sink's guard would take them for older and drop them.
   */
  written?: Partial<Record<Origin, WriteOrder>>;
  /** Many-part changes of each side not decided yet (PolicyHooks.gatherMs). */
  gathered?: Partial<Record<Origin, Gathered>>;
  /** The version of the image kept for each record of each part (see imageVersion), by "<origin>:<part>:<record id>". */
  versions?: Record<string, ImageVersion>;
  /** The last Salesforce change event taken for each record, by "SALESFORCE:<part>:<record id>": a replayed copy is known by it (replay.ts). */
  taken?: Record<string, TakenEvent>;
}

/** A watched state of the record that is open: since when (wall clock, ms), what is wrong, whether it was alerted. */
export interface WatchState {
  since: number;
  message: string;
  alerted: boolean;
}

/**
 * How recent a kept image is: a shop row's version column, or a Salesforce change's commit time (for a
 * backfilled record: the time Salesforce's query started, which it is at least as recent as). Only
 * compared when a backfill is involved: live changes arrive in order (docs/design.md, "Backfill").
 */
export interface ImageVersion {
  version: number;
  backfill: boolean;
}

/** A routed change's version, or null when its side tells none (a shop table without a version column). */
export function imageVersion(msg: RoutedChange): number | null {
  return msg.origin === 'SHOP' ? msg.sourceVersion : msg.eventTime;
}

export function versionKey(msg: RoutedChange): string {
  return `${msg.origin}:${msg.part}:${msg.recordId}`;
}

/**
 * A change older than the image kept for its record, where a backfill is involved: a backfilled image
 * a live change overtook, or a live change that lagged behind a backfilled image of a later state.
 */
export function isStale(state: EntityState, msg: RoutedChange): boolean {
  const kept = state.versions?.[versionKey(msg)];
  const version = imageVersion(msg);
  if (!kept || version === null || (!msg.backfill && !kept.backfill)) return false;
  return version < kept.version;
}

/** The versions with this change's recorded (kept also for a delete, so an older image cannot bring the record back). */
export function withVersion(state: EntityState, msg: RoutedChange): Record<string, ImageVersion> | undefined {
  const version = imageVersion(msg);
  if (version === null) return state.versions;
  return { ...state.versions, [versionKey(msg)]: { version, backfill: !!msg.backfill } };
}

export function emptyEntityState(): EntityState {
  return { rec: null, shop: {}, salesforce: {} };
}

/** The side's parts with the routed change's image put in (or taken out, for a delete). */
export function withImage(parts: Parts, spec: PartSpec, msg: RoutedChange): Parts {
  const next: Parts = { ...parts };
  if (spec.many) {
    const images = { ...((next[spec.as] as Record<string, Record<string, unknown>>) ?? {}) };
    if (msg.op === 'DELETE') delete images[msg.recordId];
    else images[msg.recordId] = msg.image!;
    next[spec.as] = images;
  } else {
    next[spec.as] = msg.op === 'DELETE' ? null : msg.image;
  }
  return next;
}
