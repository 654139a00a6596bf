/** The reconcile policy of one enabled entity: masters, policies and hooks from its definition and section. */
import type { EnabledEntity } from '../entities/index.ts';
import { VOLATILE_FIELDS } from '../entities/fields.ts';
import { salesforcePrecision } from '../entities/precision.ts';
import type { Policy, ReconcileSettings, Side } from './types.ts';

const SIDE: Record<'shop' | 'salesforce', Side> = { shop: 'SHOP', salesforce: 'SALESFORCE' };

export function policyFor(entity: EnabledEntity, reconcile: ReconcileSettings): Policy {
  const cfg = entity.config;
  const fieldMasters: Record<string, Side> = {};
  for (const [f, side] of Object.entries(cfg.fieldMasters)) fieldMasters[f] = SIDE[side];
  for (const m of cfg.fields) if (m.master) fieldMasters[m.canonical.startsWith('extra.') ? 'extra' : m.canonical] = SIDE[m.master];
  return {
    entity: entity.name,
    master: cfg.master === 'both' ? 'BOTH' : SIDE[cfg.master],
    fieldMasters,
    conflictPolicy: cfg.conflictPolicy,
    deletePolicy: cfg.deletePolicy,
    deactivateField: entity.hooks.deactivateField ?? null,
    ignoreFields: [...VOLATILE_FIELDS],
    deltaField: cfg.master === 'both' ? entity.hooks.deltaField ?? null : null,
    belowZero: entity.hooks.belowZero ?? 'keep',
    windowMs: entity.hooks.windowMs ?? 0,
    seedOnCreate: entity.hooks.seedOnCreate ?? false,
    nestedFields: Object.keys(entity.kinds).filter((f) => entity.kinds[f] === 'nested'),
    precision: { SALESFORCE: { ...salesforcePrecision(entity.kinds, entity.fieldMappings), ...entity.hooks.salesforcePrecision } },
    seenPositions: reconcile.seenPositions,
    maxInFlight: reconcile.maxInFlight,
    inFlightTtlMs: reconcile.inFlightTtlMs,
    watch: entity.hooks.watch ?? null,
  };
}

export function otherSide(side: Side): Side {
  return side === 'SHOP' ? 'SALESFORCE' : 'SHOP';
}

/** Side owning a field (per-field master, else the entity master). */
export function ownerOf(policy: Policy, field: string): Side | 'BOTH' {
  return policy.fieldMasters[field] ?? policy.master;
}
