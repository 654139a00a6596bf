/**
 * The entity registry: the one list of entity definitions. The configuration's `entities` section,
 * the flows the router and reconciler run, the topics and the Salesforce channels all come from it;
 * adding an entity is adding its folder and one line here.
 */
import { z } from 'zod';
import { campaignSegment } from './campaign_segment/index.ts';
import type { BaseEntityConfig } from './config-section.ts';
import { customer } from './customer/index.ts';
import { missingParts, type EntityDefinition, type PolicyHooks } from './definition.ts';
import type { AnyEntityMapping } from './entity.ts';
import type { FieldKinds } from './fields.ts';
import { invoice } from './invoice/index.ts';
import type { FieldMapping } from './mapping.ts';
import { order } from './order/index.ts';
import type { FlowSpec } from './parts.ts';
import { payment } from './payment/index.ts';
import { product } from './product/index.ts';
import { stock } from './stock/index.ts';
import { supportTicket } from './support_ticket/index.ts';

export const ENTITIES = [customer, order, product, stock, payment, invoice, supportTicket, campaignSegment] as const;

type Definition = (typeof ENTITIES)[number];
export type EntityName = Definition['name'];
export const ENTITY_NAMES: readonly EntityName[] = ENTITIES.map((d) => d.name);

/** The `entities` configuration section: one sub-section per registered entity. */
export const entitiesSchema = z.strictObject(
  Object.fromEntries(ENTITIES.map((d) => [d.name, (d.config as z.ZodType<BaseEntityConfig>).prefault({}).describe(d.description)])) as {
    [D in Definition as D['name']]: z.ZodPrefault<D['config']>
  },
).superRefine((sections, ctx) => {
  for (const d of ENTITIES) {
    const cfg = (sections as Record<string, BaseEntityConfig>)[d.name];
    if (!cfg?.enabled) continue;
    const missing = missingParts(d as EntityDefinition, cfg);
    if (missing.length > 0) {
      ctx.addIssue({ code: 'custom', path: [d.name, 'enabled'], message: `the ${d.name} flow is not complete (missing ${missing.join(', ')}); disable it` });
    }
  }
});

export type EntitiesConfig = z.output<typeof entitiesSchema>;

/** One enabled entity, built from its definition and configuration section. */
export interface EnabledEntity {
  name: EntityName;
  kinds: FieldKinds;
  config: BaseEntityConfig;
  fieldMappings: FieldMapping[];
  flow: FlowSpec;
  mapping: AnyEntityMapping;
  hooks: PolicyHooks;
}

/** The enabled entities of a configuration, in registry order. Throws naming an incomplete one. */
export function enabledEntities(settings: { shopId: string; entities: EntitiesConfig }): EnabledEntity[] {
  const out: EnabledEntity[] = [];
  for (const d of ENTITIES as readonly EntityDefinition[]) {
    const cfg = (settings.entities as Record<string, BaseEntityConfig>)[d.name];
    if (!cfg?.enabled) continue;
    const missing = missingParts(d, cfg);
    if (missing.length > 0 || !d.flow || !d.mapping || !d.fieldMappings) {
      throw new Error(`entities.${d.name}.enabled: the ${d.name} flow is not complete (missing ${missing.join(', ')}); disable it`);
    }
    out.push({
      name: d.name as EntityName, kinds: d.kinds, config: cfg, fieldMappings: d.fieldMappings(cfg),
      flow: d.flow(cfg), mapping: d.mapping(cfg, settings.shopId), hooks: d.policy?.(cfg) ?? {},
    });
  }
  return out;
}

/** The registered definition of an entity name, or undefined. */
export function definitionOf(name: string): EntityDefinition | undefined {
  return (ENTITIES as readonly EntityDefinition[]).find((d) => d.name === name);
}
