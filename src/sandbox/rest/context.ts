import type { AuthSession } from '../auth/session.ts';
import type { ApiName, Counters } from '../admin/counters.ts';
import type { ApiQuota } from '../admin/quota.ts';
import type { OrgStore, UnitOfWork, WriteApi } from '../store/store.ts';
import type { QueryCursors } from './query-cursors.ts';

/** What every REST handler needs. */
export interface RestDeps {
  store: OrgStore;
  counters: Counters;
  quota: ApiQuota;
  cursors: QueryCursors;
}

/** One REST call (or one composite subrequest). */
export interface RestContext {
  deps: RestDeps;
  /** "60.0" */
  version: string;
  session: AuthSession;
  /** Sforce-Call-Options client value ('' when none). */
  client: string;
  /** The API of the call (from its path): its writes count under it. */
  api: ApiName;
  /** The call's HTTP method and its path after /services/data/vXX.X (what a failNext filters on). */
  method: string;
  path: string;
  /** Set inside a composite request: subrequests share its transaction. */
  uow?: UnitOfWork;
  /** Sforce-Query-Options batchSize. */
  queryBatchSize?: number;
}

export interface RestRequest {
  params: string[];
  query: Record<string, string>;
  body: unknown;
}

export interface RestResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type RestHandler = (ctx: RestContext, req: RestRequest) => RestResponse;

export function changeOrigin(ctx: RestContext): string {
  return `com/salesforce/api/rest/${ctx.version}${ctx.client ? `;client=${ctx.client}` : ''}`;
}

/** Runs fn in the composite's transaction, or in a new one that is committed (or rolled back on error). */
export function inTransaction<T>(ctx: RestContext, fn: (uow: UnitOfWork) => T): T {
  if (ctx.uow) return fn(ctx.uow);
  const uow = ctx.deps.store.begin(changeOrigin(ctx), { userId: ctx.session.userId, api: writeApi(ctx.api), method: ctx.method, path: ctx.path });
  try {
    const out = fn(uow);
    uow.commit();
    return out;
  } catch (err) {
    uow.rollback();
    throw err;
  }
}

function writeApi(api: ApiName): WriteApi {
  return api === 'collections' || api === 'composite' || api === 'bulk' ? api : 'rest';
}

export function sobjectUrl(version: string, type: string, id: string): string {
  return `/services/data/v${version}/sobjects/${type}/${id}`;
}
