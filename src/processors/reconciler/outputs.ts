/** What one reconcile decision produces: the canonical change, the write commands and the audit record. */
import type { EnabledEntity } from '../../entities/index.ts';
import type { CanonicalChange } from '../../entities/types.ts';
import { SUBJECTS, type TopicNames } from '../../flows/topic-names.ts';
import type { Output } from '../../kafka/types.ts';
import { decisionAuditEvent } from '../../reconcile/audit.ts';
import { commandsFor, type WriteOrder } from '../../reconcile/commands.ts';
import type { AuditEntry, PlannedWrite, Policy, Rec } from '../../reconcile/types.ts';

/** An enabled entity with its reconcile policy. */
export interface Flow { entity: EnabledEntity; policy: Policy }

/** Encodes a value with the latest schema of a registry subject (Avro, Confluent framing). */
export type Encode = (subject: string, value: unknown) => Promise<Buffer>;

export interface DecisionOutputs {
  entity: EnabledEntity;
  change: CanonicalChange;
  writes: PlannedWrite[];
  /** The last record known on each side (an order whose line went away deletes it there). */
  lastBySide: { SHOP: Rec | null; SALESFORCE: Rec | null };
  /** The base before the decision (a long list writes only what differs from it). */
  baseBefore: Rec | null;
  /** The version and time the commands carry (default: the change's). */
  order?: WriteOrder;
  audit: AuditEntry;
  /** Publish the canonical change on sync.<entity> (not for duplicates and window flushes). */
  publish: boolean;
}

export async function decisionOutputs(d: DecisionOutputs, names: TopicNames, encode: Encode): Promise<Output[]> {
  const { change } = d;
  const commands = commandsFor(d.entity.mapping, change, d.writes, d.lastBySide, d.baseBefore, d.order);
  const outputs: Output[] = [];
  if (d.publish) outputs.push({ topic: names.canonical(change.entity), key: change.key, value: await encode(SUBJECTS.canonical(change.entity), change) });
  for (const cmd of commands.salesforce) outputs.push({ topic: names.salesforceCommands, key: change.key, value: await encode(SUBJECTS.salesforceCommands, cmd) });
  for (const cmd of commands.shop) outputs.push({ topic: names.shopCommands, key: change.key, value: await encode(SUBJECTS.shopCommands, cmd) });
  const audit = decisionAuditEvent(d.audit, { shopId: change.shopId, entity: change.entity, processor: 'reconciler', at: Date.now() });
  outputs.push({ topic: names.audit, key: change.key, value: await encode(SUBJECTS.audit, audit) });
  return outputs;
}
