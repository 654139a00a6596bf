/**
 * The configuration section every entity shares (entities.<name>): enabled, its tables and objects,
 * external ids, masters, policies and extra field mappings. An entity adds its own options to it.
 * Each field carries a description: docs/configuration.md is generated from these schemas.
 */
import { z } from 'zod';
import { isMappableField, type FieldKinds } from './fields.ts';

const side = z.enum(['shop', 'salesforce']);
export const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'must be an identifier (letters, digits, _)' });
export const sfName = z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, { error: 'must be a Salesforce API name' });

export const TRANSFORMS = ['none', 'trim', 'lowercase', 'uppercase', 'negate'] as const;

export const fieldMappingSchema = z.strictObject({
  canonical: z.string().describe('Canonical field (see schemas/<entity>.avsc), or extra.<name> for a field kept in the record\'s extra map.'),
  shop: identifier.optional().describe('Column in the entity\'s main shop table; omit when the shop side does not hold the field.'),
  salesforce: z.string().regex(/^[A-Za-z][A-Za-z0-9_]*\.[A-Za-z][A-Za-z0-9_]*$/, { error: 'must be Object.Field, e.g. Contact.Email' })
    .optional().describe('Salesforce field as Object.Field (e.g. Contact.Email); omit when Salesforce does not hold the field.'),
  transform: z.enum(TRANSFORMS).default('none').describe('trim, lowercase, uppercase: applied on read from either side; negate: a boolean inverted on the Salesforce side (e.g. HasOptedOutOfEmail).'),
  valueMap: z.record(z.string(), z.string()).optional().describe('Shop value -> Salesforce value (e.g. order status -> StageName); reversed when reading from Salesforce (where several shop values share one, the record keeps its own).'),
  master: side.optional().describe('Side that owns this field; overrides the entity\'s master.'),
});
export type FieldMappingConfig = z.infer<typeof fieldMappingSchema>;

export type MasterSetting = 'shop' | 'salesforce' | 'both';

/** The defaults of an entity's shared section. */
export interface SectionDefaults {
  shopTables: string[];
  salesforceObjects: string[];
  externalIds: Record<string, string>;
  master: MasterSetting;
  fieldMasters?: Record<string, 'shop' | 'salesforce'>;
  deletePolicy: 'propagate' | 'ignore' | 'deactivate';
}

/** What every entity section holds once parsed. */
export interface BaseEntityConfig {
  enabled: boolean;
  shopTables: string[];
  salesforceObjects: string[];
  externalIds: Record<string, string>;
  master: MasterSetting;
  fieldMasters: Record<string, 'shop' | 'salesforce'>;
  conflictPolicy: 'reassert-master' | 'accept';
  deletePolicy: 'propagate' | 'ignore' | 'deactivate';
  fields: FieldMappingConfig[];
}

export interface SectionSpec<X extends z.ZodRawShape> {
  /** Entity name, for messages. */
  entity: string;
  /** Canonical fields of the entity (what fieldMasters and fields[].canonical may name). */
  kinds: FieldKinds;
  defaults: SectionDefaults;
  /** Whether the entity can be owned by both sides (a delta-merged field). */
  deltaMerge?: boolean;
  /** The entity's own options. */
  options: X;
}

/** The zod schema of one entity's section: the shared fields plus the entity's own options. */
export function entitySection<X extends z.ZodRawShape>(spec: SectionSpec<X>) {
  const d = spec.defaults;
  return z.strictObject({
    enabled: z.boolean().default(false).describe(`Run the ${spec.entity} flow.`),
    shopTables: z.array(identifier).min(1).default(d.shopTables).describe('Shop tables of the entity, main table first.'),
    salesforceObjects: z.array(sfName).min(1).default(d.salesforceObjects).describe('Salesforce objects of the entity, main object first.'),
    externalIds: z.record(sfName, sfName).default(d.externalIds).describe('External id field per Salesforce object (object -> field).'),
    master: z.enum(['shop', 'salesforce', 'both']).default(d.master).describe('Side that owns the entity; "both" (delta merge) only where the entity has a delta field (stock).'),
    fieldMasters: z.record(z.string(), side).default(d.fieldMasters ?? {}).describe('Per-field owner overriding master (canonical field -> side).'),
    conflictPolicy: z.enum(['reassert-master', 'accept']).default('reassert-master')
      .describe('A change on the non-master side: reassert-master writes the master\'s value back; accept takes the change and sends it to the master.'),
    deletePolicy: z.enum(['propagate', 'ignore', 'deactivate']).default(d.deletePolicy)
      .describe('A delete on the master side: propagate deletes on the other side, deactivate marks inactive, ignore keeps it.'),
    fields: z.array(fieldMappingSchema).default([]).describe('Field mappings added to (or replacing, by canonical name) the built-in ones.'),
    ...spec.options,
  }).superRefine((cfg, ctx) => refineSection(spec, cfg as unknown as BaseEntityConfig, ctx));
}

function refineSection(spec: SectionSpec<z.ZodRawShape>, cfg: BaseEntityConfig, ctx: z.RefinementCtx): void {
  const known = spec.kinds;
  for (const f of Object.keys(cfg.fieldMasters)) {
    if (!(f in known)) ctx.addIssue({ code: 'custom', path: ['fieldMasters', f], message: `unknown ${spec.entity} field "${f}" (known: ${Object.keys(known).join(', ')})` });
  }
  cfg.fields.forEach((m, i) => {
    if (!isMappableField(known, m.canonical)) {
      ctx.addIssue({ code: 'custom', path: ['fields', i, 'canonical'], message: `"${m.canonical}" is not a mappable ${spec.entity} field (known: ${Object.keys(known).filter((k) => known[k] !== 'nested').join(', ')}, or extra.<name>)` });
    }
    if (!m.shop && !m.salesforce) ctx.addIssue({ code: 'custom', path: ['fields', i], message: 'a mapping needs shop, salesforce or both' });
    if (m.salesforce && !cfg.salesforceObjects.includes(m.salesforce.split('.')[0])) {
      ctx.addIssue({ code: 'custom', path: ['fields', i, 'salesforce'], message: `object "${m.salesforce.split('.')[0]}" is not in salesforceObjects (${cfg.salesforceObjects.join(', ')})` });
    }
  });
  if (cfg.master === 'both' && !spec.deltaMerge) {
    ctx.addIssue({ code: 'custom', path: ['master'], message: `master "both" (delta merge) needs a delta field; ${spec.entity} has none` });
  }
  if (cfg.master !== 'both' && spec.deltaMerge) {
    ctx.addIssue({ code: 'custom', path: ['master'], message: `${spec.entity} is owned by both sides (delta merge): master must be "both"` });
  }
  if (!(cfg.salesforceObjects[0] in cfg.externalIds)) {
    ctx.addIssue({ code: 'custom', path: ['externalIds'], message: `needs an external id field for ${cfg.salesforceObjects[0]}` });
  }
}

/** The sides that master at least one field of the entity (its master, per-field masters, mappings' masters). */
export function sidesMastering(cfg: BaseEntityConfig): Set<'shop' | 'salesforce'> {
  const sides = new Set<'shop' | 'salesforce'>(cfg.master === 'both' ? ['shop', 'salesforce'] : [cfg.master]);
  for (const side of Object.values(cfg.fieldMasters)) sides.add(side);
  for (const m of cfg.fields) if (m.master) sides.add(m.master);
  return sides;
}
