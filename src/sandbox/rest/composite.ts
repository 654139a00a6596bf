import { SfError } from '../store/errors.ts';
import { changeOrigin, type RestContext, type RestHandler, type RestResponse } from './context.ts';
import { dispatch } from './router.ts';

const MAX_SUBREQUESTS = 25;

interface SubRequest { method: string; url: string; referenceId: string; body?: unknown; httpHeaders?: Record<string, string> }

const HALTED_ROLLBACK = [{ errorCode: 'PROCESSING_HALTED', message: 'The transaction was rolled back since another operation in the same transaction failed.' }];

function parseBody(body: unknown): { allOrNone: boolean; requests: SubRequest[] } {
  const b = (body ?? {}) as { allOrNone?: unknown; compositeRequest?: unknown };
  if (!Array.isArray(b.compositeRequest)) throw new SfError('JSON_PARSER_ERROR', 'compositeRequest is required', [], 400);
  if (b.compositeRequest.length > MAX_SUBREQUESTS) {
    throw new SfError('INVALID_BATCH_REQUEST', `Composite request cannot have more than ${MAX_SUBREQUESTS} subrequests`, [], 400);
  }
  const requests = b.compositeRequest.map((r, i) => {
    const s = r as Partial<SubRequest>;
    if (typeof s.method !== 'string' || typeof s.url !== 'string' || typeof s.referenceId !== 'string') {
      throw new SfError('JSON_PARSER_ERROR', `compositeRequest[${i}] needs method, url and referenceId`, [], 400);
    }
    return s as SubRequest;
  });
  return { allOrNone: b.allOrNone === true, requests };
}

/** Looks up `ref.path` (e.g. "NewAccount.id", "Q.records[0].Id") in earlier results. */
function lookup(results: Map<string, unknown>, expr: string): unknown {
  const [ref, ...rest] = expr.split('.');
  let node: unknown = results.get(ref!);
  if (node === undefined) return undefined;
  for (const part of rest.join('.').split('.').filter(Boolean)) {
    const m = /^([^[]+)((?:\[\d+\])*)$/.exec(part);
    if (!m) return undefined;
    node = (node as Record<string, unknown> | undefined)?.[m[1]!];
    for (const idx of m[2]!.match(/\d+/g) ?? []) node = (node as unknown[] | undefined)?.[Number(idx)];
  }
  return node;
}

function resolveRefs(value: unknown, results: Map<string, unknown>): unknown {
  if (typeof value === 'string') {
    const whole = /^@\{([^}]+)\}$/.exec(value);
    if (whole) {
      const v = lookup(results, whole[1]!);
      if (v === undefined) throw new RefError(whole[1]!);
      return v;
    }
    return value.replace(/@\{([^}]+)\}/g, (_, expr: string) => {
      const v = lookup(results, expr);
      if (v === undefined) throw new RefError(expr);
      return String(v);
    });
  }
  if (Array.isArray(value)) return value.map((v) => resolveRefs(v, results));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveRefs(v, results)]));
  }
  return value;
}

class RefError extends Error {
  constructor(readonly expr: string) { super(expr); }
}

/**
 * POST /composite: up to 25 subrequests in one transaction, later ones referring to earlier
 * results with @{ref.field}; allOrNone rolls everything back when one fails. Always 200.
 */
export const composite: RestHandler = (ctx, { body }) => {
  const { allOrNone, requests } = parseBody(body);
  const uow = ctx.deps.store.begin(changeOrigin(ctx), { userId: ctx.session.userId, api: 'composite', method: ctx.method, path: ctx.path });
  const sub: RestContext = { ...ctx, uow };
  const results = new Map<string, unknown>();
  const out: Array<{ body: unknown; httpHeaders: Record<string, string>; httpStatusCode: number; referenceId: string }> = [];
  let failedAt = -1;
  try {
    for (const [i, req] of requests.entries()) {
      let res: RestResponse;
      const sp = uow.savepoint();
      try {
        const url = resolveRefs(req.url, results) as string;
        const reqBody = resolveRefs(req.body, results);
        const parsed = new URL(url, 'http://composite.local');
        const m = /^\/services\/data\/v(\d+\.\d+)(\/.*)?$/.exec(parsed.pathname);
        if (!m) throw new SfError('NOT_FOUND', `The requested resource does not exist: ${req.url}`, [], 404);
        if ((m[2] ?? '').startsWith('/composite') && !(m[2] ?? '').startsWith('/composite/sobjects')) {
          throw new SfError('INVALID_BATCH_REQUEST', 'composite requests cannot be nested', [], 400);
        }
        res = dispatch({ ...sub, version: m[1]! }, req.method.toUpperCase(), m[2] ?? '', Object.fromEntries(parsed.searchParams), reqBody);
      } catch (err) {
        if (!(err instanceof RefError)) throw err;
        res = {
          status: 400,
          body: [{ errorCode: 'PROCESSING_HALTED', message: `Invalid reference specified. No value for ${err.expr} found in ${err.expr.split('.')[0]}. Provided referenceId ${req.referenceId}` }],
        };
      }
      if (res.status >= 400) uow.rollbackTo(sp);
      else results.set(req.referenceId, res.body);
      out.push({ body: res.body ?? null, httpHeaders: res.headers ?? {}, httpStatusCode: res.status, referenceId: req.referenceId });
      if (res.status >= 400 && allOrNone) {
        failedAt = i;
        break;
      }
    }
    if (failedAt >= 0) {
      uow.rollback();
      const halted = requests.map((req, i) => (i === failedAt ? out[i]! : { body: HALTED_ROLLBACK, httpHeaders: {}, httpStatusCode: 400, referenceId: req.referenceId }));
      return { status: 200, body: { compositeResponse: halted } };
    }
    uow.commit();
  } catch (err) {
    uow.rollback();
    throw err;
  }
  return { status: 200, body: { compositeResponse: out } };
};
