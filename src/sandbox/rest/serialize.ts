import type { ObjectInfo } from '../model/index-model.ts';
import type { SfRecord } from '../store/store.ts';
import { SfError } from '../store/errors.ts';
import { sobjectUrl } from './context.ts';

/** A stored record as REST returns it: attributes first, fields in model order (or the requested ones). */
export function toRestRecord(info: ObjectInfo, rec: SfRecord, version: string, fields?: string[]): SfRecord {
  const out: SfRecord = { attributes: { type: info.def.name, url: sobjectUrl(version, info.def.name, rec.Id as string) } };
  if (fields && fields.length) {
    for (const name of fields) {
      const f = info.fieldsByLower.get(name.toLowerCase());
      if (!f) throw new SfError('INVALID_FIELD', `No such column '${name}' on entity '${info.def.name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`, [], 400);
      out[f.name] = rec[f.name] ?? null;
    }
    if (!('Id' in out)) out.Id = rec.Id;
    return out;
  }
  for (const f of info.def.fields) out[f.name] = rec[f.name] ?? null;
  return out;
}

export function splitFields(text: string | undefined): string[] | undefined {
  if (!text) return undefined;
  return text.split(',').map((s) => s.trim()).filter(Boolean);
}

/** The body must be a JSON object, as Salesforce's deserializer insists. */
export function objectBody(body: unknown): SfRecord {
  if (body === undefined || body === null) throw new SfError('JSON_PARSER_ERROR', 'The HTTP entity body is required, but this request has no entity body.', [], 400);
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new SfError('JSON_PARSER_ERROR', `Cannot deserialize instance of sObject from ${Array.isArray(body) ? 'START_ARRAY' : 'VALUE_STRING'} value or request may be missing a required field`, [], 400);
  }
  return body as SfRecord;
}
