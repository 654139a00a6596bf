import { flattenCompound, normalizeValue, type ObjectFields } from './field-types.ts';
import type { ChangeEvent, ChangeEventHeader, ChangeType } from './types.ts';

const STATES_ALL: ChangeType[] = ['CREATE', 'UNDELETE'];

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !Buffer.isBuffer(v);
}

function asHeader(raw: Record<string, unknown>, channel: string): ChangeEventHeader {
  const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : []);
  const num = (v: unknown) => (typeof v === 'bigint' ? Number(v) : Number(v ?? 0));
  if (!raw || typeof raw.changeType !== 'string') throw new Error(`change event on ${channel} has no ChangeEventHeader.changeType`);
  return {
    entityName: String(raw.entityName ?? ''),
    recordIds: list(raw.recordIds),
    changeType: raw.changeType as ChangeType,
    changeOrigin: String(raw.changeOrigin ?? ''),
    transactionKey: String(raw.transactionKey ?? ''),
    sequenceNumber: num(raw.sequenceNumber),
    commitTimestamp: num(raw.commitTimestamp),
    commitNumber: num(raw.commitNumber),
    commitUser: String(raw.commitUser ?? ''),
    changedFields: list(raw.changedFields),
    nulledFields: list(raw.nulledFields),
    diffFields: list(raw.diffFields),
  };
}

/** Sets one (possibly compound) field value into `out`, normalized. */
function put(out: Record<string, unknown>, fields: ObjectFields | undefined, name: string, value: unknown): void {
  if (isPlainObject(value)) {
    for (const [k, v] of flattenCompound(name, value)) out[k] = normalizeValue(fields, k, v);
  } else {
    out[name] = normalizeValue(fields, name, value);
  }
}

/**
 * The field values an event states. `present` tells whether a payload carries a field at all:
 * Pub/Sub sends every field (unchanged ones null), CometD leaves out null and unchanged fields.
 */
function statedFields(header: ChangeEventHeader, payload: Record<string, unknown>, fields: ObjectFields | undefined): { values: Record<string, unknown>; unstated: string[] } {
  const values: Record<string, unknown> = {};
  const unstated: string[] = [];
  if (STATES_ALL.includes(header.changeType)) {
    for (const [k, v] of Object.entries(payload)) if (k !== 'ChangeEventHeader') put(values, fields, k, v);
    return { values, unstated };
  }
  if (header.changeType !== 'UPDATE') return { values, unstated };
  const diff = new Set(header.diffFields);
  const names = new Set([...header.changedFields, ...header.nulledFields]);
  for (const name of names) {
    if (diff.has(name)) { unstated.push(name); continue; }
    const dot = name.indexOf('.');
    if (dot > 0) {
      const parent = name.slice(0, dot);
      const sub = name.slice(dot + 1);
      const holder = payload[parent];
      const v = isPlainObject(holder) ? holder[sub] ?? null : null;
      put(values, fields, parent, { [sub]: v });
    } else {
      put(values, fields, name, payload[name] ?? null);
    }
  }
  return { values, unstated };
}

/** A Pub/Sub API event: its Avro payload decoded, the field bitmaps turned into field names. */
export function fromPubSub(channel: string, data: { replayId: number | bigint | string; payload: Record<string, unknown> }, fields: ObjectFields | undefined): ChangeEvent {
  const header = asHeader(data.payload.ChangeEventHeader as Record<string, unknown>, channel);
  const { values, unstated } = statedFields(header, data.payload, fields);
  return { channel, replayId: String(data.replayId), header, fields: values, unstated };
}

/** A Streaming API (CometD) message: { event: { replayId }, payload: { ChangeEventHeader, ... } }. */
export function fromCometd(channel: string, message: { event?: { replayId?: number | string }; payload?: Record<string, unknown> }, fields: ObjectFields | undefined): ChangeEvent {
  const payload = message.payload ?? {};
  if (message.event?.replayId === undefined) throw new Error(`CometD message on ${channel} has no event.replayId`);
  const header = asHeader(payload.ChangeEventHeader as Record<string, unknown>, channel);
  // CometD headers have no nulledFields: a changed field missing from the payload was set to null
  const { values, unstated } = statedFields(header, payload, fields);
  return { channel, replayId: String(message.event.replayId), header, fields: values, unstated };
}
