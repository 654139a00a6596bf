import { z } from 'zod';
import { SfError } from '../store/errors.ts';
import type { CommittedTransaction } from '../cdc/change-event.ts';
import type { OrgStore } from '../store/store.ts';

/**
 * The org's set-up as an administrator changes it in Setup: a field's access for the connected user
 * (createable, updateable: field-level security), its External ID and Unique attributes, and which
 * objects are selected for Change Data Capture. Tests use it to present the gaps `shopforce org
 * check` reports and the errors that pause the sinks.
 */
export const fieldSetupSchema = z.object({
  object: z.string().min(1),
  field: z.string().min(1),
  createable: z.boolean().optional(),
  updateable: z.boolean().optional(),
  externalId: z.boolean().optional(),
  unique: z.boolean().optional(),
}).strict();
export type FieldSetup = z.input<typeof fieldSetupSchema>;

export const cdcSetupSchema = z.object({ object: z.string().min(1), enabled: z.boolean() }).strict();
export type CdcSetup = z.input<typeof cdcSetupSchema>;

export interface FieldFlags { object: string; field: string; createable: boolean; updateable: boolean; externalId: boolean; unique: boolean }

/** Objects taken out of the Change Data Capture selection, per store (lower-case names). */
const cdcOff = new WeakMap<OrgStore, Set<string>>();

export function setFieldSetup(store: OrgStore, input: FieldSetup): FieldFlags {
  const s = fieldSetupSchema.parse(input);
  const info = store.index.object(s.object);
  if (!info) throw new SfError('INVALID_TYPE', `sObject type '${s.object}' is not supported.`, [], 400);
  const field = info.fieldsByLower.get(s.field.toLowerCase());
  if (!field) throw new SfError('INVALID_FIELD', `No such column '${s.field}' on sobject of type ${info.def.name}`, [s.field]);
  for (const key of ['createable', 'updateable', 'externalId', 'unique'] as const) if (s[key] !== undefined) field[key] = s[key];
  return {
    object: info.def.name, field: field.name, createable: field.createable !== false, updateable: field.updateable !== false,
    externalId: field.externalId === true, unique: field.unique === true,
  };
}

export function setChangeDataCapture(store: OrgStore, input: CdcSetup): { object: string; enabled: boolean } {
  const s = cdcSetupSchema.parse(input);
  const info = store.index.object(s.object);
  if (!info) throw new SfError('INVALID_TYPE', `sObject type '${s.object}' is not supported.`, [], 400);
  const off = cdcOff.get(store) ?? new Set<string>();
  cdcOff.set(store, off);
  if (s.enabled) off.delete(info.def.name.toLowerCase());
  else off.add(info.def.name.toLowerCase());
  return { object: info.def.name, enabled: s.enabled };
}

/** The objects selected for Change Data Capture: every object of the org unless taken out. */
export function changeDataCaptureObjects(store: OrgStore): string[] {
  const off = cdcOff.get(store);
  return store.model.objects.map((o) => o.name).filter((name) => !off?.has(name.toLowerCase()));
}

/**
 * What of a committed transaction Change Data Capture publishes: the changes of the selected objects
 * only. An object taken out of the selection changes without any change event, on every channel
 * (CometD and Pub/Sub), as in a real org.
 */
export function selectedForChangeDataCapture(store: OrgStore, tx: CommittedTransaction): CommittedTransaction {
  const off = cdcOff.get(store);
  if (!off?.size || !tx.changes.some((c) => off.has(c.entityName.toLowerCase()))) return tx;
  return { ...tx, changes: tx.changes.filter((c) => !off.has(c.entityName.toLowerCase())) };
}
