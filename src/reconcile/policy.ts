import type { EntityConfig, ShopforceConfig } from '../config/schema.ts';
import { VOLATILE_FIELDS } from '../entities/fields.ts';
import type { EntityName } from '../entities/types.ts';
import type { Policy, Side } from './types.ts';

const SIDE: Record<'shop' | 'salesforce', Side> = { shop: 'SHOP', salesforce: 'SALESFORCE' };

/** The reconcile policy of one entity from its configuration section. */
export function policyFromConfig(entity: EntityName, cfg: EntityConfig, reconcile: ShopforceConfig['reconcile']): Policy {
  const fieldMasters: Record<string, Side> = {};
  for (const [f, side] of Object.entries(cfg.fieldMasters)) fieldMasters[f] = SIDE[side];
  for (const m of cfg.fields) if (m.master) fieldMasters[m.canonical.startsWith('extra.') ? 'extra' : m.canonical] = SIDE[m.master];
  return {
    entity,
    master: cfg.master === 'both' ? 'BOTH' : SIDE[cfg.master],
    fieldMasters,
    conflictPolicy: cfg.conflictPolicy,
    deletePolicy: cfg.deletePolicy,
    deactivateField: entity === 'product' || entity === 'campaign_segment' ? 'active' : null,
    ignoreFields: [...VOLATILE_FIELDS],
    deltaField: cfg.master === 'both' ? 'quantity' : null,
    seenPositions: reconcile.seenPositions,
    maxInFlight: reconcile.maxInFlight,
    inFlightTtlMs: reconcile.inFlightTtlMs,
  };
}

export function otherSide(side: Side): Side {
  return side === 'SHOP' ? 'SALESFORCE' : 'SHOP';
}

/** Side owning a field (per-field master, else the entity master). */
export function ownerOf(policy: Policy, field: string): Side | 'BOTH' {
  return policy.fieldMasters[field] ?? policy.master;
}
