import { SfError } from '../store/errors.ts';
import type { SfRecord, UnitOfWork } from '../store/store.ts';
import { normalizeId } from '../store/ids.ts';
import { inTransaction, type RestContext, type RestHandler } from './context.ts';
import { objectOf } from './sobjects.ts';
import { splitFields, toRestRecord } from './serialize.ts';

const MAX_RECORDS = 200;

interface CollectionResult {
  id?: string | null;
  success: boolean;
  errors: Array<{ statusCode: string; message: string; fields: string[] }>;
  created?: boolean;
}

const ROLLED_BACK = {
  statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK',
  message: 'Record rolled back because not all records were valid and the request was using AllOrNone header',
  fields: [],
};

function collectionBody(body: unknown): { allOrNone: boolean; records: SfRecord[] } {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new SfError('JSON_PARSER_ERROR', 'Cannot deserialize instance of the request body: expected {"allOrNone": ..., "records": [...]}', [], 400);
  }
  const b = body as { allOrNone?: unknown; records?: unknown };
  if (!Array.isArray(b.records)) throw new SfError('INVALID_FIELD', 'records is required', ['records'], 400);
  checkSize(b.records.length);
  return { allOrNone: b.allOrNone === true, records: b.records as SfRecord[] };
}

function checkSize(n: number): void {
  if (n > MAX_RECORDS) {
    throw new SfError('EXCEEDED_ID_LIMIT', `record limit reached. cannot submit more than ${MAX_RECORDS} records into this call`, [], 400);
  }
}

/**
 * Applies one operation per item in one transaction; each item succeeds or fails on its own,
 * unless allOrNone, where one failure rolls all back. Results keep the input order.
 */
function runAll<T>(ctx: RestContext, allOrNone: boolean, items: T[], op: (uow: UnitOfWork, item: T) => { id: string; created?: boolean }, idOf: (item: T) => string | null): CollectionResult[] {
  return inTransaction(ctx, (uow) => {
    const start = uow.savepoint();
    const results: CollectionResult[] = [];
    let failed = false;
    for (const item of items) {
      try {
        const r = op(uow, item);
        results.push({ id: r.id, success: true, errors: [], ...(r.created !== undefined ? { created: r.created } : {}) });
      } catch (err) {
        if (!(err instanceof SfError)) throw err;
        failed = true;
        const id = idOf(item);
        results.push({ ...(id ? { id } : {}), success: false, errors: [err.toCollectionError()] });
      }
    }
    if (allOrNone && failed) {
      uow.rollbackTo(start);
      return results.map((r) => (r.success ? { id: r.id ?? null, success: false, errors: [ROLLED_BACK] } : r));
    }
    return results;
  });
}

function typeOf(ctx: RestContext, rec: SfRecord, seen: Set<string>): string {
  const type = (rec.attributes as { type?: unknown } | undefined)?.type;
  if (typeof type !== 'string' || !type) throw new SfError('INVALID_TYPE', 'Must specify type in attributes', [], 400);
  const info = ctx.deps.store.index.object(type);
  if (!info) throw new SfError('INVALID_TYPE', `sObject type '${type}' is not supported.`, [], 400);
  if (!seen.has(info.def.name)) {
    seen.add(info.def.name);
    ctx.deps.counters.object(info.def.name);
  }
  return info.def.name;
}

/** POST /composite/sobjects */
export const createMany: RestHandler = (ctx, { body }) => {
  const { allOrNone, records } = collectionBody(body);
  const seen = new Set<string>();
  return {
    status: 200,
    body: runAll(ctx, allOrNone, records, (uow, rec) => {
      const object = typeOf(ctx, rec, seen);
      if (idField(rec)) throw new SfError('INVALID_FIELD', 'cannot specify Id in an insert call', ['Id']);
      return { id: uow.create(object, rec) };
    }, () => null),
  };
};

/** The record's Id, whatever its casing (jsforce sends "id"). */
function idField(rec: SfRecord): string {
  const v = Object.entries(rec).find(([k]) => k.toLowerCase() === 'id')?.[1];
  return typeof v === 'string' ? v : '';
}

/** PATCH /composite/sobjects */
export const updateMany: RestHandler = (ctx, { body }) => {
  const { allOrNone, records } = collectionBody(body);
  const seen = new Set<string>();
  return {
    status: 200,
    body: runAll(ctx, allOrNone, records, (uow, rec) => {
      const object = typeOf(ctx, rec, seen);
      const id = idField(rec);
      if (!id) throw new SfError('MISSING_ARGUMENT', 'Id not specified in an update call', ['Id']);
      uow.update(object, id, rec);
      return { id: normalizeId(id) ?? id };
    }, (rec) => idField(rec) || null),
  };
};

/** PATCH /composite/sobjects/T/ExtField */
export const upsertMany: RestHandler = (ctx, { params, body }) => {
  const info = objectOf(ctx, params[0]!);
  const field = info.fieldsByLower.get(params[1]!.toLowerCase());
  if (!field || !(field.externalId || field.name === 'Id')) {
    throw new SfError('INVALID_FIELD', `Provided external ID field does not exist or is not accessible: ${params[1]}`, [], 400);
  }
  const { allOrNone, records } = collectionBody(body);
  return {
    status: 200,
    body: runAll(ctx, allOrNone, records, (uow, rec) => {
      const type = (rec.attributes as { type?: unknown } | undefined)?.type;
      if (typeof type === 'string' && type.toLowerCase() !== info.def.name.toLowerCase()) {
        throw new SfError('INVALID_TYPE', `sObject type '${type}' does not match the type of the call: ${info.def.name}`);
      }
      const value = Object.entries(rec).find(([k]) => k.toLowerCase() === field.name.toLowerCase())?.[1];
      if (value === undefined || value === null || value === '') {
        throw new SfError('MISSING_ARGUMENT', `${field.name} not specified`, [field.name]);
      }
      const r = uow.upsert(info.def.name, field.name, value, rec);
      return { id: r.id, created: r.created };
    }, () => null),
  };
};

/** DELETE /composite/sobjects?ids=a,b&allOrNone=true */
export const deleteMany: RestHandler = (ctx, { query }) => {
  const ids = (query.ids ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (ids.length === 0) throw new SfError('MISSING_ARGUMENT', 'ids parameter is required', [], 400);
  checkSize(ids.length);
  const seen = new Set<string>();
  return {
    status: 200,
    body: runAll(ctx, query.allOrNone === 'true', ids, (uow, id) => {
      const norm = normalizeId(id);
      const found = norm ? ctx.deps.store.getById(norm) : undefined;
      if (!norm) throw new SfError('MALFORMED_ID', `malformed id ${id}`, []);
      if (!found) throw new SfError('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id', []);
      if (!seen.has(found.object)) {
        seen.add(found.object);
        ctx.deps.counters.object(found.object);
      }
      uow.delete(found.object, norm);
      return { id: norm };
    }, (id) => id),
  };
};

/** GET /composite/sobjects/T?ids=&fields= or POST /composite/sobjects/T {ids, fields} */
export const retrieveMany: RestHandler = (ctx, { params, query, body }) => {
  const info = objectOf(ctx, params[0]!);
  let ids: string[];
  let fields: string[] | undefined;
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    const b = body as { ids?: unknown; fields?: unknown };
    ids = Array.isArray(b.ids) ? b.ids.map(String) : [];
    fields = Array.isArray(b.fields) ? b.fields.map(String) : undefined;
  } else {
    ids = (query.ids ?? '').split(',').filter(Boolean);
    fields = splitFields(query.fields);
  }
  if (!fields || fields.length === 0) throw new SfError('MISSING_ARGUMENT', 'fields parameter is required', [], 400);
  if (ids.length > 2000) throw new SfError('EXCEEDED_ID_LIMIT', 'cannot retrieve more than 2000 records', [], 400);
  return {
    status: 200,
    body: ids.map((id) => {
      const rec = ctx.deps.store.get(info.def.name, id);
      return rec && !rec.IsDeleted ? toRestRecord(info, rec, ctx.version, fields) : null;
    }),
  };
};
