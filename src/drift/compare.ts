/**
 * One entity key compared across the two sides. Each side's images become a canonical record through
 * the entity's mapping, as the reconciler builds them; the reference side (the master, or the shop when
 * both sides own the entity) is read on its own, the other side with the reference record as what it
 * does not hold (a shop-only field, the status behind an ambiguous stage), so only what both sides
 * hold is compared, each field at the precision Salesforce stores it (docs/design.md, "Reconciliation").
 */
import { isDeepStrictEqual } from 'node:util';
import type { EnabledEntity } from '../entities/index.ts';
import { atPrecision } from '../entities/precision.ts';
import { otherSide } from '../reconcile/policy.ts';
import type { Policy, Rec, Side } from '../reconcile/types.ts';
import { partsOf, type PartImage, type SideRecord } from './side-images.ts';

export type DriftKind = 'missing' | 'different' | 'extra';

export interface Comparison {
  key: string;
  /**
   * same; missing: the reference side has it, the other not; different; extra: the other side has it,
   * the reference side not; kept: extra, as the delete policy leaves it; unreadable: a side's images
   * did not map (the error says why).
   */
  kind: 'same' | DriftKind | 'kept' | 'unreadable';
  /** The side that is off (lacks the record, holds other values, holds one the reference side lacks). */
  side: Side;
  /** Canonical fields that differ (different). */
  fields: string[];
  /** Canonical records, null where the side has none. */
  records: Record<Side, Rec | null>;
  /** The raw images each side holds of the key. */
  images: Record<Side, PartImage[]>;
  error?: string;
}

/** An enabled entity with what a comparison needs. */
export interface DriftFlow {
  entity: EnabledEntity;
  policy: Policy;
  /** The master, or SHOP when both sides own the entity (stock). */
  reference: Side;
}

export function driftFlow(entity: EnabledEntity, policy: Policy): DriftFlow {
  return { entity, policy, reference: policy.master === 'BOTH' ? 'SHOP' : policy.master };
}

/** The mapping input of one side, or undefined when the side lacks the entity (no main part). */
function inputOf(flow: DriftFlow, side: Side, rec: SideRecord | undefined): unknown {
  if (!rec) return undefined;
  const { flow: spec } = flow.entity;
  return side === 'SHOP' ? spec.shopInput(partsOf(spec.shop, rec.images)) : spec.salesforceInput(partsOf(spec.salesforce, rec.images));
}

function canonical(flow: DriftFlow, side: Side, input: unknown, previous: Rec | null): Rec {
  const m = flow.entity.mapping;
  return (side === 'SHOP' ? m.fromShopRow(input, previous) : m.fromSalesforce(input, previous)) as Rec;
}

/** Two values of a field equal as Salesforce stores it (second, currency scale), else exactly. */
export function sameValue(policy: Policy, field: string, a: unknown, b: unknown): boolean {
  const p = policy.precision.SALESFORCE?.[field];
  return isDeepStrictEqual(atPrecision(p, a), atPrecision(p, b));
}

export function compareKey(flow: DriftFlow, key: string, shop: SideRecord | undefined, salesforce: SideRecord | undefined): Comparison | undefined {
  const R = flow.reference;
  const O = otherSide(R);
  const sides: Record<Side, SideRecord | undefined> = { SHOP: shop, SALESFORCE: salesforce };
  const base: Omit<Comparison, 'kind'> = {
    key, side: O, fields: [], records: { SHOP: null, SALESFORCE: null },
    images: { SHOP: shop?.images ?? [], SALESFORCE: salesforce?.images ?? [] },
  };
  let refInput: unknown, otherInput: unknown;
  try {
    refInput = inputOf(flow, R, sides[R]);
    otherInput = inputOf(flow, O, sides[O]);
    // only child records (order lines without their order) on both sides: no entity to compare
    if (refInput === undefined && otherInput === undefined) return undefined;
    base.records[R] = refInput === undefined ? null : canonical(flow, R, refInput, null);
    base.records[O] = otherInput === undefined ? null : canonical(flow, O, otherInput, base.records[R]);
  } catch (err) {
    return { ...base, kind: 'unreadable', side: refInput === undefined ? R : O, error: (err as Error).message };
  }
  const ref = base.records[R];
  const other = base.records[O];
  if (ref && !other) return { ...base, kind: 'missing' };
  if (!ref && other) return { ...base, kind: extraIsKept(flow.policy, other) ? 'kept' : 'extra' };
  const fields = [...new Set([...Object.keys(ref!), ...Object.keys(other!)])]
    .filter((f) => !flow.policy.ignoreFields.includes(f) && !sameValue(flow.policy, f, ref![f], other![f])).sort();
  return fields.length === 0 ? { ...base, kind: 'same' } : { ...base, kind: 'different', fields };
}

/** A record only the non-master side holds that the delete policy leaves there (ignore; deactivate, once inactive). */
function extraIsKept(policy: Policy, other: Rec): boolean {
  if (policy.master === 'BOTH') return false;
  if (policy.deletePolicy === 'ignore') return true;
  return policy.deletePolicy === 'deactivate' && policy.deactivateField !== null && other[policy.deactivateField] === false;
}
