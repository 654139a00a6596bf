import type { ObjectInfo } from '../model/index-model.ts';
import { SfError, notFound } from '../store/errors.ts';
import { normalizeId } from '../store/ids.ts';
import { inTransaction, sobjectUrl, type RestContext, type RestHandler } from './context.ts';
import { objectBody, splitFields, toRestRecord } from './serialize.ts';

/** The object named in a URL, or 404 NOT_FOUND as Salesforce answers for unknown types. */
export function objectOf(ctx: RestContext, type: string): ObjectInfo {
  const info = ctx.deps.store.index.object(type);
  if (!info) throw notFound();
  ctx.deps.counters.object(info.def.name);
  return info;
}

export const createRecord: RestHandler = (ctx, { params, body }) => {
  const info = objectOf(ctx, params[0]!);
  const values = objectBody(body);
  const id = inTransaction(ctx, (uow) => uow.create(info.def.name, values));
  return { status: 201, body: { id, success: true, errors: [] }, headers: { Location: sobjectUrl(ctx.version, info.def.name, id) } };
};

export const getRecord: RestHandler = (ctx, { params, query }) => {
  const info = objectOf(ctx, params[0]!);
  const id = params[1]!;
  const norm = normalizeId(id);
  if (!norm) throw new SfError('MALFORMED_ID', `${info.def.label} ID: id value of incorrect type: ${id}`, ['Id'], 400);
  const rec = ctx.deps.store.get(info.def.name, norm);
  if (!rec || rec.IsDeleted) throw notFound();
  return { status: 200, body: toRestRecord(info, rec, ctx.version, splitFields(query.fields)) };
};

export const updateRecord: RestHandler = (ctx, { params, body }) => {
  const info = objectOf(ctx, params[0]!);
  const values = objectBody(body);
  inTransaction(ctx, (uow) => uow.update(info.def.name, params[1]!, values));
  return { status: 204 };
};

export const deleteRecord: RestHandler = (ctx, { params }) => {
  const info = objectOf(ctx, params[0]!);
  inTransaction(ctx, (uow) => uow.delete(info.def.name, params[1]!));
  return { status: 204 };
};

function externalField(info: ObjectInfo, name: string) {
  const field = info.fieldsByLower.get(name.toLowerCase());
  if (!field || !(field.externalId || field.name === 'Id')) {
    throw new SfError('NOT_FOUND', `Provided external ID field does not exist or is not accessible: ${name}`, [], 404);
  }
  return field;
}

/** PATCH /sobjects/T/Ext__c/value: 201 created, 200 updated, 300 several matches. */
export const upsertRecord: RestHandler = (ctx, { params, query, body }) => {
  const info = objectOf(ctx, params[0]!);
  const field = externalField(info, params[1]!);
  const value = decodeURIComponent(params[2]!);
  const values = objectBody(body);
  const given = Object.entries(values).find(([k]) => k.toLowerCase() === field.name.toLowerCase());
  if (given && given[1] !== null && String(given[1]) !== value) {
    throw new SfError('INVALID_FIELD', `The value of the ${field.name} field in the body (${String(given[1])}) does not match the value in the URL (${value})`, [field.name], 400);
  }
  try {
    const result = inTransaction(ctx, (uow) => uow.upsert(info.def.name, field.name, value, values, { updateOnly: query.updateOnly === 'true' }));
      return {
      status: result.created ? 201 : 200,
      body: { id: result.id, success: true, errors: [], created: result.created },
      headers: { Location: sobjectUrl(ctx.version, info.def.name, result.id) },
    };
  } catch (err) {
    if (err instanceof SfError && err.status === 300) return multipleChoices(ctx, info, field.name, value);
    throw err;
  }
};

function multipleChoices(ctx: RestContext, info: ObjectInfo, field: string, value: string) {
  const ids = ctx.deps.store.findBy(info.def.name, field, value);
  return { status: 300, body: ids.map((id) => sobjectUrl(ctx.version, info.def.name, id)) };
}

/** GET /sobjects/T/Ext__c/value */
export const getByExternalId: RestHandler = (ctx, { params, query }) => {
  const info = objectOf(ctx, params[0]!);
  const field = externalField(info, params[1]!);
  const value = decodeURIComponent(params[2]!);
  const ids = ctx.deps.store.findBy(info.def.name, field.name, value);
  if (ids.length === 0) throw notFound();
  if (ids.length > 1) return multipleChoices(ctx, info, field.name, value);
  return { status: 200, body: toRestRecord(info, ctx.deps.store.get(info.def.name, ids[0]!)!, ctx.version, splitFields(query.fields)) };
};

/** DELETE /sobjects/T/Ext__c/value */
export const deleteByExternalId: RestHandler = (ctx, { params }) => {
  const info = objectOf(ctx, params[0]!);
  const field = externalField(info, params[1]!);
  const value = decodeURIComponent(params[2]!);
  const ids = ctx.deps.store.findBy(info.def.name, field.name, value);
  if (ids.length === 0) throw notFound();
  if (ids.length > 1) return multipleChoices(ctx, info, field.name, value);
  inTransaction(ctx, (uow) => uow.delete(info.def.name, ids[0]!));
  return { status: 204 };
};
