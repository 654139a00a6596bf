import avro from 'avsc';

/** A change event schema from GetSchema, compiled once. */
export interface EventSchemaType {
  id: string;
  type: avro.Type;
  /** Top-level field names in schema order (bit i of a field bitmap = field i). */
  fields: string[];
  /** Sub-field names of compound (record-typed) fields, by top-level index. */
  subFields: Map<number, string[]>;
}

export function compileSchema(id: string, schemaJson: string): EventSchemaType {
  // unions of null and one type decode to the plain value; longs stay JS numbers (epoch ms fit)
  const type = avro.Type.forSchema(JSON.parse(schemaJson) as avro.Schema, { wrapUnions: false });
  const record = type as avro.types.RecordType;
  const fields = record.fields.map((f) => f.name);
  const subFields = new Map<number, string[]>();
  record.fields.forEach((f, i) => {
    const t = f.type as avro.Type;
    const candidates = t.typeName === 'union:unwrapped' || t.typeName === 'union:wrapped' ? (t as avro.types.UnwrappedUnionType).types : [t];
    const rec = candidates.find((c) => c.typeName === 'record') as avro.types.RecordType | undefined;
    if (rec && i > 0) subFields.set(i, rec.fields.map((sf) => sf.name));
  });
  return { id, type, fields, subFields };
}

function bitsOf(hex: string): number[] {
  let n = BigInt(hex.toLowerCase().startsWith('0x') ? hex : `0x${hex}`);
  const out: number[] = [];
  for (let i = 0; n > 0n; i++, n >>= 1n) if (n & 1n) out.push(i);
  return out;
}

/**
 * Field names of a changedFields / nulledFields / diffFields bitmap list: the first entry
 * ('0x...') has bit i set for top-level field i; entries 'P-0x...' name sub-fields of the
 * compound field at index P, as 'Parent.Sub'.
 */
export function bitmapFieldNames(schema: EventSchemaType, bitmaps: string[]): string[] {
  const names: string[] = [];
  for (const entry of bitmaps) {
    const dash = entry.indexOf('-');
    if (dash < 0) {
      for (const i of bitsOf(entry)) if (schema.fields[i]) names.push(schema.fields[i]);
      continue;
    }
    const parent = Number(entry.slice(0, dash));
    const subs = schema.subFields.get(parent) ?? [];
    for (const i of bitsOf(entry.slice(dash + 1))) if (subs[i]) names.push(`${schema.fields[parent]}.${subs[i]}`);
  }
  return names;
}

/** A decoded change event payload with bitmaps turned into field names. */
export function decodePayload(schema: EventSchemaType, payload: Buffer): Record<string, unknown> {
  const value = schema.type.fromBuffer(payload) as Record<string, unknown>;
  const header = value.ChangeEventHeader as Record<string, unknown> | undefined;
  if (header) {
    for (const k of ['changedFields', 'nulledFields', 'diffFields']) {
      header[k] = bitmapFieldNames(schema, Array.isArray(header[k]) ? (header[k] as string[]) : []);
    }
  }
  return value;
}

/** Replay ids travel as bytes (8-byte big-endian); we keep them as decimal strings. */
export function replayIdToString(bytes: Buffer): string {
  return bytes.length === 8 ? bytes.readBigUInt64BE().toString() : `0x${bytes.toString('hex')}`;
}

export function replayIdToBytes(id: string): Buffer {
  if (id.startsWith('0x')) return Buffer.from(id.slice(2), 'hex');
  const buf = Buffer.alloc(8);
  buf.writeBigUInt64BE(BigInt(id));
  return buf;
}
