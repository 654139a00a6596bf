import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { FieldDef, ObjectDef, OrgModel } from './types.ts';

const FIELD_TYPES = [
  'id', 'string', 'textarea', 'email', 'phone', 'url', 'picklist', 'boolean',
  'int', 'double', 'currency', 'percent', 'date', 'datetime', 'reference',
] as const;

const apiName = z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'must be an API name (letters, digits, _)');

const fieldSchema = z.object({
  name: apiName,
  type: z.enum(FIELD_TYPES),
  label: z.string().optional(),
  length: z.number().int().positive().optional(),
  precision: z.number().int().positive().optional(),
  scale: z.number().int().min(0).optional(),
  required: z.boolean().optional(),
  externalId: z.boolean().optional(),
  unique: z.boolean().optional(),
  picklistValues: z.array(z.string()).optional(),
  referenceTo: z.array(apiName).optional(),
  relationshipName: apiName.optional(),
  createable: z.boolean().optional(),
  updateable: z.boolean().optional(),
  defaultValue: z.union([z.string(), z.number(), z.boolean()]).optional(),
}).strict();

const objectSchema = z.object({
  name: apiName,
  label: z.string(),
  keyPrefix: z.string().regex(/^[A-Za-z0-9]{3}$/, 'must be 3 letters/digits'),
  custom: z.boolean().optional(),
  fields: z.array(fieldSchema),
}).strict();

/** A user's extra file may add objects, or fields to existing objects (only name + fields needed then). */
const extraObjectSchema = objectSchema.partial({ label: true, keyPrefix: true });
const modelSchema = z.object({ objects: z.array(objectSchema) }).strict();
const extraSchema = z.object({ objects: z.array(extraObjectSchema) }).strict();

export const BUILTIN_MODEL_PATH = join(dirname(fileURLToPath(import.meta.url)), 'org-model.json');

/** Thrown when a model file is not valid; the message names the file and the bad path. */
export class ModelFileError extends Error {
  constructor(file: string, detail: string) {
    super(`invalid org model file ${file}: ${detail}`);
    this.name = 'ModelFileError';
  }
}

function parseFile<T>(file: string, schema: z.ZodType<T>): T {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ModelFileError(file, (err as Error).message);
  }
  const result = schema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new ModelFileError(file, `${formatPath(raw, issue.path)}: ${issue.message}`);
  }
  return result.data;
}

/** "objects[3].fields[2].type" plus the object/field name when known, e.g. "objects[3](Case).fields[2](Status).type". */
function formatPath(raw: unknown, path: PropertyKey[]): string {
  let out = '';
  let node: any = raw;
  for (const key of path) {
    node = node?.[key as any];
    if (typeof key === 'number') {
      out += `[${key}]`;
      if (node && typeof node === 'object' && typeof node.name === 'string') out += `(${node.name})`;
    } else {
      out += out ? `.${String(key)}` : String(key);
    }
  }
  return out || '(root)';
}

const SYSTEM_FIELDS: FieldDef[] = [
  { name: 'Id', type: 'id', label: 'Record ID', length: 18, createable: false, updateable: false },
  { name: 'IsDeleted', type: 'boolean', label: 'Deleted', createable: false, updateable: false, defaultValue: false },
  { name: 'CreatedDate', type: 'datetime', label: 'Created Date', createable: false, updateable: false },
  { name: 'CreatedById', type: 'reference', label: 'Created By ID', referenceTo: ['User'], createable: false, updateable: false },
  { name: 'LastModifiedDate', type: 'datetime', label: 'Last Modified Date', createable: false, updateable: false },
  { name: 'LastModifiedById', type: 'reference', label: 'Last Modified By ID', referenceTo: ['User'], createable: false, updateable: false },
  { name: 'SystemModstamp', type: 'datetime', label: 'System Modstamp', createable: false, updateable: false },
];

function withSystemFields(obj: ObjectDef): ObjectDef {
  const own = obj.fields.filter((f) => !SYSTEM_FIELDS.some((s) => s.name.toLowerCase() === f.name.toLowerCase()));
  const fields: FieldDef[] = [SYSTEM_FIELDS[0]!, SYSTEM_FIELDS[1]!];
  // Custom objects always have a Name; standard ones declare theirs in the file.
  if (obj.custom && !own.some((f) => f.name === 'Name')) fields.push({ name: 'Name', type: 'string', label: `${obj.label} Name`, length: 80 });
  fields.push(...own, ...SYSTEM_FIELDS.slice(2));
  return { ...obj, fields: fields.map((f) => ({ ...f, label: f.label ?? labelOf(f.name), ...numericSize(f) })) };
}

const DECIMAL_TYPES = new Set(['double', 'currency', 'percent']);

/** A number, currency or percent field without precision/scale gets Salesforce's widest, 18 digits (scale 0). */
function numericSize(f: FieldDef): Pick<FieldDef, 'precision' | 'scale'> {
  return DECIMAL_TYPES.has(f.type) ? { precision: f.precision ?? 18, scale: f.scale ?? 0 } : {};
}

function labelOf(name: string): string {
  return name.replace(/__c$/, '').replace(/Id$/, ' ID').replace(/_/g, ' ').replace(/([a-z])([A-Z])/g, '$1 $2').trim();
}

function merge(base: ObjectDef[], extra: z.infer<typeof extraSchema>, file: string): ObjectDef[] {
  const out = base.map((o) => ({ ...o, fields: [...o.fields] }));
  for (const [i, add] of extra.objects.entries()) {
    const existing = out.find((o) => o.name === add.name);
    if (existing) {
      for (const field of add.fields) {
        const at = existing.fields.findIndex((f) => f.name === field.name);
        if (at >= 0) existing.fields[at] = field;
        else existing.fields.push(field);
      }
    } else {
      if (!add.label || !add.keyPrefix) {
        throw new ModelFileError(file, `objects[${i}](${add.name}): a new object needs label and keyPrefix`);
      }
      out.push({ ...add, label: add.label, keyPrefix: add.keyPrefix });
    }
  }
  return out;
}

function check(model: OrgModel, file: string): void {
  const prefixes = new Map<string, string>();
  for (const obj of model.objects) {
    const other = prefixes.get(obj.keyPrefix);
    if (other) throw new ModelFileError(file, `objects(${obj.name}).keyPrefix: ${obj.keyPrefix} is already used by ${other}`);
    prefixes.set(obj.keyPrefix, obj.name);
    const seen = new Set<string>();
    for (const field of obj.fields) {
      const key = field.name.toLowerCase();
      if (seen.has(key)) throw new ModelFileError(file, `objects(${obj.name}).fields(${field.name}): defined twice`);
      seen.add(key);
      if (field.type === 'reference' && !field.referenceTo?.length) {
        throw new ModelFileError(file, `objects(${obj.name}).fields(${field.name}).referenceTo: a reference needs referenceTo`);
      }
    }
  }
}

/**
 * Loads the built-in org model, merges the user's extra file (objects or fields) when given,
 * and adds the system fields (Id, IsDeleted, CreatedDate, ... and Name on custom objects).
 */
export function loadOrgModel(extraFile?: string): OrgModel {
  const base = parseFile(BUILTIN_MODEL_PATH, modelSchema);
  let objects: ObjectDef[] = base.objects;
  if (extraFile) objects = merge(objects, parseFile(extraFile, extraSchema), extraFile);
  const model: OrgModel = { objects: objects.map(withSystemFields) };
  check(model, extraFile ?? BUILTIN_MODEL_PATH);
  return model;
}
