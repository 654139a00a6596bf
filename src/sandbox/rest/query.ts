import { executeSoql, parseSoql, SoqlError } from '../soql/index.ts';
import { SfError } from '../store/errors.ts';
import type { RestContext, RestHandler } from './context.ts';

const DEFAULT_BATCH = 2000;

/** Runs SOQL over the store; SOQL errors become the 400 Salesforce answers. */
export function runSoql(ctx: RestContext, text: string, includeDeleted: boolean): { totalSize: number; records: Array<Record<string, unknown>>; columns: string[] } {
  try {
    const parsed = parseSoql(text);
    const info = ctx.deps.store.index.object(parsed.from.name);
    if (info) ctx.deps.counters.object(info.def.name);
    return executeSoql(parsed, {
      model: ctx.deps.store.model,
      records: (name) => ctx.deps.store.records(name),
      // equality conjuncts go through the store's indexes instead of a full scan
      lookup: (o, f, v) => ctx.deps.store.findBy(o, f, v).map((id) => ctx.deps.store.get(o, id)!),
      includeDeleted,
      apiVersion: ctx.version,
    });
  } catch (err) {
    if (err instanceof SoqlError) throw new SfError(err.errorCode, err.message, [], 400);
    throw err;
  }
}

function batchSize(ctx: RestContext): number {
  const n = ctx.queryBatchSize;
  return n && n >= 200 && n <= DEFAULT_BATCH ? n : DEFAULT_BATCH;
}

function queryHandler(includeDeleted: boolean): RestHandler {
  return (ctx, { query }) => {
    const q = query.q;
    if (!q) throw new SfError('MALFORMED_QUERY', 'A query string has to be specified', [], 400);
    const result = runSoql(ctx, q, includeDeleted);
    const page = ctx.deps.cursors.open(ctx.version, result.records, result.totalSize, batchSize(ctx));
    return { status: 200, body: { totalSize: result.totalSize, done: page.done, ...(page.nextRecordsUrl ? { nextRecordsUrl: page.nextRecordsUrl } : {}), records: page.records } };
  };
}

export const query = queryHandler(false);
export const queryAll = queryHandler(true);

/** GET /query/<locator> (also under /queryAll: jsforce uses /query for both). */
export const queryMore: RestHandler = (ctx, { params }) => {
  const page = ctx.deps.cursors.next(ctx.version, params[0]!, batchSize(ctx));
  return { status: 200, body: { totalSize: page.totalSize, done: page.done, ...(page.nextRecordsUrl ? { nextRecordsUrl: page.nextRecordsUrl } : {}), records: page.records } };
};
