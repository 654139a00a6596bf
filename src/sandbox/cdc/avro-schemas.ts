import crypto from 'node:crypto';
import avro from 'avsc';
import type { FieldDef, FieldType, ObjectDef, OrgModel } from '../model/types.ts';
import { changeEventName, isPlatformEventName } from './channels.ts';
import type { ChangeEventHeader, EventBody } from './stored-event.ts';

const NAMESPACE = 'com.sforce.eventbus';
const DAY_MS = 86_400_000;

/** Fields Salesforce leaves out of change events. */
const EXCLUDED_FROM_CDC = new Set(['Id', 'IsDeleted', 'SystemModstamp']);
/** Audit fields every change event carries, added when the model does not list them. */
const AUDIT_FIELDS: FieldDef[] = [
  { name: 'CreatedDate', type: 'datetime' }, { name: 'CreatedById', type: 'reference' },
  { name: 'LastModifiedDate', type: 'datetime' }, { name: 'LastModifiedById', type: 'reference' },
];

const CHANGE_TYPES = ['CREATE', 'UPDATE', 'DELETE', 'UNDELETE', 'GAP_CREATE', 'GAP_UPDATE', 'GAP_DELETE',
  'GAP_UNDELETE', 'GAP_OVERFLOW', 'SNAPSHOT'];

interface AvroField { name: string; type: unknown; doc?: string; default?: null }

/** Avro type and `doc` tag (as Salesforce writes them) of a field type. */
function avroTypeOf(type: FieldType): { type: string; doc: string } {
  switch (type) {
    case 'boolean': return { type: 'boolean', doc: 'Data:Boolean' };
    case 'int': return { type: 'int', doc: 'Data:Integer' };
    case 'double': case 'currency': case 'percent': return { type: 'double', doc: `Data:${type === 'double' ? 'Double' : type === 'currency' ? 'Currency' : 'Percent'}` };
    case 'date': return { type: 'int', doc: 'Data:Date' };
    case 'datetime': return { type: 'long', doc: 'Data:DateTime' };
    case 'reference': return { type: 'string', doc: 'Data:EntityId' };
    default: return { type: 'string', doc: `Data:${type === 'id' ? 'EntityId' : 'Text'}` };
  }
}

function headerSchema() {
  const stringArray = { type: 'array', items: 'string' };
  return {
    type: 'record', name: 'ChangeEventHeader', namespace: NAMESPACE,
    fields: [
      { name: 'entityName', type: 'string' },
      { name: 'recordIds', type: stringArray },
      { name: 'changeType', type: { type: 'enum', name: 'ChangeType', namespace: NAMESPACE, symbols: CHANGE_TYPES } },
      { name: 'changeOrigin', type: 'string' },
      { name: 'transactionKey', type: 'string' },
      { name: 'sequenceNumber', type: 'int' },
      { name: 'commitTimestamp', type: 'long' },
      { name: 'commitNumber', type: 'long' },
      { name: 'commitUser', type: 'string' },
      { name: 'nulledFields', type: stringArray },
      { name: 'diffFields', type: stringArray },
      { name: 'changedFields', type: stringArray },
    ],
  };
}

/** One event schema: its Avro JSON, id, compiled type and the field types used for encoding. */
export interface EventSchema {
  id: string;
  json: string;
  entity: string;
  kind: 'cdc' | 'platform';
  type: avro.Type;
  /** Top-level data fields in schema order (after ChangeEventHeader for change events). */
  fields: { name: string; fieldType: FieldType; nullable: boolean }[];
  /** Field name → top-level Avro field index (ChangeEventHeader is 0). */
  index: Map<string, number>;
}

function schemaId(json: string): string {
  return crypto.createHash('sha256').update(json).digest('base64url').slice(0, 22);
}

function compile(entity: string, kind: 'cdc' | 'platform', schema: { fields: AvroField[] },
  fields: EventSchema['fields']): EventSchema {
  const json = JSON.stringify(schema);
  const index = new Map<string, number>();
  schema.fields.forEach((f, i) => index.set(f.name, i));
  return { id: schemaId(json), json, entity, kind, type: avro.Type.forSchema(schema as avro.Schema), fields, index };
}

function changeEventSchema(object: ObjectDef): EventSchema {
  const defs = object.fields.filter((f) => !EXCLUDED_FROM_CDC.has(f.name));
  for (const audit of AUDIT_FIELDS) if (!defs.some((f) => f.name === audit.name)) defs.push(audit);
  const fields = defs.map((f) => ({ name: f.name, fieldType: f.type, nullable: true }));
  const avroFields: AvroField[] = [
    { name: 'ChangeEventHeader', type: headerSchema(), doc: 'Data:ChangeEventHeader' },
    ...defs.map((f) => {
      const t = avroTypeOf(f.type);
      return { name: f.name, type: ['null', t.type], doc: t.doc, default: null };
    }),
  ];
  return compile(object.name, 'cdc', {
    type: 'record', name: changeEventName(object.name), namespace: NAMESPACE, fields: avroFields,
  } as never, fields);
}

function platformEventSchema(object: ObjectDef): EventSchema {
  const custom = object.fields.filter((f) => !['Id', 'CreatedDate', 'CreatedById', 'EventUuid'].includes(f.name));
  const fields: EventSchema['fields'] = [
    { name: 'CreatedDate', fieldType: 'datetime', nullable: false },
    { name: 'CreatedById', fieldType: 'reference', nullable: false },
    { name: 'EventUuid', fieldType: 'string', nullable: true },
    ...custom.map((f) => ({ name: f.name, fieldType: f.type, nullable: true })),
  ];
  const avroFields: AvroField[] = fields.map((f) => {
    const t = avroTypeOf(f.fieldType);
    return f.nullable ? { name: f.name, type: ['null', t.type], doc: t.doc, default: null } : { name: f.name, type: t.type, doc: t.doc };
  });
  return compile(object.name, 'platform', { type: 'record', name: object.name, namespace: NAMESPACE, fields: avroFields } as never, fields);
}

/** Avro value of a field as the store handed it over (ISO strings for dates, numbers, ...). */
function toAvroValue(fieldType: FieldType, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (fieldType) {
    case 'boolean': return value === true || value === 'true';
    case 'int': return Math.trunc(Number(value));
    case 'double': case 'currency': case 'percent': return Number(value);
    case 'datetime': return typeof value === 'number' ? value : Date.parse(String(value));
    case 'date': {
      const ms = typeof value === 'number' ? value : Date.parse(`${String(value).slice(0, 10)}T00:00:00Z`);
      return Math.floor(ms / DAY_MS);
    }
    default: return String(value);
  }
}

/** JSON value of a field as it travels in CometD: dates as UTC strings, nothing else changed. */
export function toJsonValue(fieldType: FieldType, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (fieldType === 'datetime') return new Date(typeof value === 'number' ? value : String(value)).toISOString();
  if (fieldType === 'date') {
    return typeof value === 'number' ? new Date(value).toISOString().slice(0, 10) : String(value).slice(0, 10);
  }
  return value;
}

/** Salesforce's field bitmap: ['0x<uppercase hex>'], bit i = top-level Avro field i; [] when none. */
export function fieldBitmap(schema: EventSchema, names: string[]): string[] {
  let bits = 0n;
  for (const name of names) {
    const i = schema.index.get(name);
    if (i !== undefined) bits |= 1n << BigInt(i);
  }
  return bits === 0n ? [] : [`0x${bits.toString(16).toUpperCase()}`];
}

/** All event schemas of an org model, by id and by entity. */
export class SchemaRegistry {
  private readonly byId = new Map<string, EventSchema>();
  private readonly byEntity = new Map<string, EventSchema>();

  constructor(model: OrgModel) {
    for (const object of model.objects) {
      const schema = isPlatformEventName(object.name) ? platformEventSchema(object) : changeEventSchema(object);
      this.byId.set(schema.id, schema);
      this.byEntity.set(object.name, schema);
    }
  }

  get(id: string): EventSchema | undefined {
    return this.byId.get(id);
  }

  forEntity(entity: string): EventSchema | undefined {
    return this.byEntity.get(entity);
  }

  /** The Pub/Sub payload of a stored event: plain Avro binary of the entity's schema. */
  encode(schema: EventSchema, body: EventBody): Buffer {
    const record: Record<string, unknown> = {};
    if (schema.kind === 'cdc') {
      const h = body.header as ChangeEventHeader;
      record.ChangeEventHeader = {
        entityName: h.entityName, recordIds: h.recordIds, changeType: h.changeType, changeOrigin: h.changeOrigin,
        transactionKey: h.transactionKey, sequenceNumber: h.sequenceNumber, commitTimestamp: h.commitTimestamp,
        commitNumber: h.commitNumber, commitUser: h.commitUser,
        nulledFields: fieldBitmap(schema, h.nulledFields), diffFields: fieldBitmap(schema, h.diffFields),
        changedFields: fieldBitmap(schema, h.changedFields),
      };
    }
    for (const f of schema.fields) {
      record[f.name] = toAvroValue(f.fieldType, body.fields[f.name]);
    }
    return schema.type.toBuffer(record);
  }

  /** Decodes a published platform event payload into JSON-safe fields (throws on bad Avro). */
  decodePlatform(schema: EventSchema, payload: Buffer): Record<string, unknown> {
    const value = schema.type.fromBuffer(payload) as Record<string, unknown>;
    const fields: Record<string, unknown> = {};
    for (const f of schema.fields) {
      let v = value[f.name];
      if (typeof v === 'bigint') v = Number(v);
      if (v === null || v === undefined) fields[f.name] = null;
      else if (f.fieldType === 'date') fields[f.name] = new Date(Number(v) * DAY_MS).toISOString().slice(0, 10);
      else if (f.fieldType === 'datetime') fields[f.name] = new Date(Number(v)).toISOString();
      else fields[f.name] = v;
    }
    return fields;
  }
}
