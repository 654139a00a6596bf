/** Types of the per-key reconciliation state machine (docs/design.md, "Reconciliation"). All plain JSON. */
import type { RecordWatch } from '../entities/definition.ts';
import type { FieldPrecision } from '../entities/precision.ts';
import type { Op, Origin } from '../entities/types.ts';

export type Side = Origin;
export type Rec = Record<string, unknown>;
export type Decision = 'duplicate' | 'echo' | 'apply' | 'conflict' | 'noop';

/** The bounds of the per-key memory (the config's `reconcile` section). */
export interface ReconcileSettings {
  seenPositions: number;
  maxInFlight: number;
  inFlightTtlMs: number;
}

export interface Policy {
  entity: string;
  /** Entity master; BOTH = delta merge of `deltaField` (stock). */
  master: Side | 'BOTH';
  /** Per-field owner overriding `master`. */
  fieldMasters: Record<string, Side>;
  conflictPolicy: 'reassert-master' | 'accept';
  deletePolicy: 'propagate' | 'ignore' | 'deactivate';
  /** Boolean field set to false by the `deactivate` delete policy. */
  deactivateField: string | null;
  /** Fields never compared (bookkeeping such as updatedAt). */
  ignoreFields: string[];
  /** The integer field merged by delta when master is BOTH. */
  deltaField: string | null;
  /** Delta merge: a merged value below zero is kept (a backorder) or clamped to zero; both alert. */
  belowZero: 'keep' | 'clamp';
  /** Delta merge: writes wait for the key's window to end (ms; 0 = written at once). */
  windowMs: number;
  /** A record new on one side is created on the other with its values of the other side's fields too. */
  seedOnCreate?: boolean;
  /** Nested fields (lists, addresses): in-flight writes keep a digest of their values. */
  nestedFields?: string[];
  /** The precision each side stores fields at: a change is compared at its side's precision. */
  precision: Partial<Record<Side, FieldPrecision>>;
  /** Bounds of the per-key memory. */
  seenPositions: number;
  maxInFlight: number;
  /** An in-flight write not seen back after this long (by source event time) is forgotten: its echo will not come
   * (e.g. the sink skipped it as a no-op). */
  inFlightTtlMs: number;
  /** A state of the record that raises an alert when it lasts longer than its delay. */
  watch: RecordWatch | null;
}

/** One change as the reconciler sees it: the envelope of a sync.<entity> record. */
export interface Change {
  origin: Side;
  sourcePosition: string;
  transactionId: string;
  eventTime: number;
  op: Op;
  /** The canonical record (any entity's plain object); null for a delete whose last image is unknown. */
  record: object | null;
  /** Top-level fields the source knew (the rest are defaults and are not compared); empty or absent = all. */
  knownFields?: string[];
  /** Our own write coming back, known by its origin (Salesforce changeOrigin, the shop sink's transaction). */
  ours?: boolean;
  /**
   * A backfilled record (docs/design.md, "Backfill"): 'read' from its side, or 'written', which the backfill
   * also wrote to the other side before handing it over.
   */
  backfill?: 'read' | 'written';
  /** Older than the image kept for its record (a backfill is involved): it brings nothing new. */
  stale?: boolean;
  /** A copy of a change already taken: a Salesforce event the source wrote again after a crash (its replay id is not past the record's last). */
  replayed?: boolean;
  /** A drift repair's reading of the side (a DELETE: the side lacks the record): see decideDelta. */
  repair?: boolean;
}

export interface Snapshot {
  record: Rec | null;
  /** Fields the source knew (the rest of `record` was filled in from the base); absent or empty = all. */
  known?: string[];
  op: Op;
  sourcePosition: string;
  transactionId: string;
  eventTime: number;
}

/** A write we issued and have not yet seen come back from its target. */
export interface InFlightWrite {
  id: string;
  target: Side;
  op: Op;
  /** Written fields and their values (empty for a delete). */
  values: Rec;
  causePosition: string;
  issuedAt: number;
  /**
   * A delta-merged write a SOQL re-read took as landed before it read the record (its change event was
   * lost with the expired replay id): the value known on its target before it. Its echo coming later
   * means it landed after the read, and the read's delta is corrected by the write.
   */
  assumedOver?: number;
}

export interface KeyState {
  v: 1;
  key: string;
  lastFromShop: Snapshot | null;
  lastFromSalesforce: Snapshot | null;
  /** The last value both sides agreed on (or will, once our writes land). */
  base: Rec | null;
  /** The key was deleted (and the delete propagated). */
  deleted: boolean;
  inFlight: InFlightWrite[];
  /** "<origin>:<sourcePosition>", oldest first, bounded by policy.seenPositions. */
  seenPositions: string[];
  /** Delta merge only: the quantity each side last reported or acknowledged. */
  sideValues: { SHOP: number | null; SALESFORCE: number | null };
  /** Delta merge with a window: the base moved since the last flush (the window's writes are due). */
  windowPending: boolean;
}

export type WriteReason = 'master-change' | 'reassert-master' | 'accept' | 'delta-merge' | 'delete' | 'deactivate';

/** A canonical write the processor turns into commands (src/reconcile/commands.ts). */
export interface PlannedWrite {
  id: string;
  target: Side;
  op: Op;
  /** The full canonical record to write (the new base), or the last known one for a delete. */
  record: Rec;
  /** Canonical top-level fields to write; null = all. */
  fields: string[] | null;
  reason: WriteReason;
}

/** Something a person should know: raised by a decision, or (drift) by a scheduled drift check that found the sides apart. */
export interface Alert {
  /** conflict, negative-stock, unmastered-create, drift, or the kind of an entity's watch (e.g. payment-mismatch). */
  kind: string;
  /** The entity key; for drift, the first drifted key. */
  key: string;
  message: string;
  fields: string[];
}

export interface AuditEntry {
  key: string;
  decision: Decision;
  origin: Side;
  sourcePosition: string;
  transactionId: string;
  eventTime: number;
  changedFields: string[];
  conflictFields: string[];
  policy: string | null;
  alert: boolean;
  writeIds: string[];
  acknowledged: string[];
  message: string;
}

export interface DecideResult {
  decision: Decision;
  writes: PlannedWrite[];
  alerts: Alert[];
  audit: AuditEntry;
  newState: KeyState;
}
