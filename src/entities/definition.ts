/**
 * An entity flow is one definition, in the manner of a connector component: its name, its config
 * section (from which the docs are generated), its canonical fields, its parts on each side, both
 * mappings and its policy hooks. src/entities/index.ts registers the definitions; config, flow
 * specs, topics and Salesforce channels are derived from that list.
 */
import type { z } from 'zod';
import type { BaseEntityConfig } from './config-section.ts';
import type { AnyEntityMapping } from './entity.ts';
import type { FieldKinds } from './fields.ts';
import type { FieldMapping } from './mapping.ts';
import type { FlowSpec } from './parts.ts';
import type { FieldPrecision } from './precision.ts';

/**
 * A state of a record that should not last (an order paid short or over): the reconciler checks the
 * agreed record after each decision; still open `afterMs` after it opened (wall clock), it raises one
 * alert and an audit record.
 */
export interface RecordWatch {
  /** Alert kind (the metrics label), e.g. "payment-mismatch". */
  kind: string;
  /** How long the state may last before the alert (ms). */
  afterMs: number;
  /** What is wrong with the record, in one line; null when nothing is. */
  check(record: Record<string, unknown>): string | null;
}

/** What the reconciler needs to know of an entity beyond masters and policies. */
export interface PolicyHooks {
  /** Integer field merged by delta when the entity is owned by both sides (stock's quantity). */
  deltaField?: string;
  /** Boolean field the `deactivate` delete policy sets to false. */
  deactivateField?: string;
  /** Delta merge: changes of one key are written once per window (ms; 0 = at once). */
  windowMs?: number;
  /** Delta merge: a merged value below zero is clamped to zero, or kept (both raise an alert). */
  belowZero?: 'clamp' | 'keep';
  /**
   * A record new on one side is created on the other with its values of the fields the other side owns
   * too (a new ticket's status: the Case has none yet); they are the other side's from then on. Off, a
   * new record carries only its side's fields (a customer's credit status is Salesforce's to set).
   */
  seedOnCreate?: boolean;
  /**
   * Many-part changes of one key (a campaign's members) are gathered and decided together, once per
   * this many ms after the first (0 = each at once): thousands of members coming one change event each
   * make a handful of decisions, not thousands.
   */
  gatherMs?: number;
  /**
   * The precision Salesforce stores a field at, where the field kinds do not tell it (they give dateTime
   * to the second and currency at scale 2 for every field mapped to Salesforce).
   */
  salesforcePrecision?: FieldPrecision;
  /** A state of the record that raises an alert when it lasts (absent: none). */
  watch?: RecordWatch;
}

export interface EntityDefinition<N extends string = string, S extends z.ZodType<BaseEntityConfig> = z.ZodType<BaseEntityConfig>> {
  readonly name: N;
  /** One line: what flows where (the config section's description). */
  readonly description: string;
  /** Top-level canonical fields and their kinds (schemas/<name>.avsc holds the same record). */
  readonly kinds: FieldKinds;
  /** The entities.<name> configuration section. */
  readonly config: S;
  /** The built-in field mappings merged with the configured ones. */
  fieldMappings?(cfg: z.output<S>): FieldMapping[];
  /** The tables and objects it reads and how their images assemble (absent: not built yet). */
  flow?(cfg: z.output<S>): FlowSpec;
  /** Raw images <-> canonical record <-> write commands (absent: not built yet). */
  mapping?(cfg: z.output<S>, shopId: string): AnyEntityMapping;
  /** Policy hooks from the section. */
  policy?(cfg: z.output<S>): PolicyHooks;
}

/** Types a definition (keeps its literal name and its section's parsed type). */
export function defineEntity<N extends string, S extends z.ZodType<BaseEntityConfig>>(d: EntityDefinition<N, S>): EntityDefinition<N, S> {
  return d;
}

/** What a definition lacks to run: empty when complete. */
export function missingParts(d: EntityDefinition<string, z.ZodType<BaseEntityConfig>>, cfg: BaseEntityConfig): string[] {
  const missing: string[] = [];
  if (!d.flow) missing.push('its parts on each side (flow)');
  if (!d.mapping) missing.push('its mappings');
  if (!d.fieldMappings) missing.push('its field mappings');
  if (cfg.master === 'both' && !d.policy?.(cfg).deltaField) missing.push('a delta field (policy hook) for master "both"');
  return missing;
}
