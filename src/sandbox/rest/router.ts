import { SfError, notFound } from '../store/errors.ts';
import type { ApiName } from '../admin/counters.ts';
import type { RestContext, RestHandler, RestResponse } from './context.ts';
import * as sobjects from './sobjects.ts';
import * as collections from './collections.ts';
import * as describe from './describe.ts';
import * as queries from './query.ts';
import { limits, resourceList } from './resources.ts';
import { toolingQuery } from './tooling.ts';

interface Route { method: string; pattern: RegExp; api: ApiName; handler: RestHandler }

const seg = '([^/]+)';
const routes: Route[] = [];
const add = (method: string, path: string, api: ApiName, handler: RestHandler) =>
  routes.push({ method, pattern: new RegExp(`^${path.replace(/:seg/g, seg)}/?$`), api, handler });

add('GET', '', 'rest', resourceList);
add('GET', '/limits', 'rest', limits);
add('GET', '/sobjects', 'rest', describe.describeGlobal);
add('GET', '/sobjects/:seg', 'rest', describe.basicInfo);
add('POST', '/sobjects/:seg', 'rest', sobjects.createRecord);
add('GET', '/sobjects/:seg/describe', 'rest', describe.describeObject);
add('GET', '/sobjects/:seg/:seg', 'rest', sobjects.getRecord);
add('PATCH', '/sobjects/:seg/:seg', 'rest', sobjects.updateRecord);
add('DELETE', '/sobjects/:seg/:seg', 'rest', sobjects.deleteRecord);
add('GET', '/sobjects/:seg/:seg/:seg', 'rest', sobjects.getByExternalId);
add('PATCH', '/sobjects/:seg/:seg/:seg', 'rest', sobjects.upsertRecord);
add('DELETE', '/sobjects/:seg/:seg/:seg', 'rest', sobjects.deleteByExternalId);
add('GET', '/query', 'query', queries.query);
add('GET', '/queryAll', 'query', queries.queryAll);
add('GET', '/query/:seg', 'query', queries.queryMore);
add('GET', '/queryAll/:seg', 'query', queries.queryMore);
add('GET', '/tooling/query', 'query', toolingQuery);
add('POST', '/composite/sobjects', 'collections', collections.createMany);
add('PATCH', '/composite/sobjects', 'collections', collections.updateMany);
add('DELETE', '/composite/sobjects', 'collections', collections.deleteMany);
add('GET', '/composite/sobjects/:seg', 'collections', collections.retrieveMany);
add('POST', '/composite/sobjects/:seg', 'collections', collections.retrieveMany);
add('PATCH', '/composite/sobjects/:seg/:seg', 'collections', collections.upsertMany);

/** Which API a REST path belongs to (for the counters), without running it. */
export function apiOf(path: string): ApiName {
  if (/^\/composite\/sobjects/.test(path)) return 'collections';
  if (/^\/composite/.test(path)) return 'composite';
  if (/^\/query/.test(path)) return 'query';
  if (/^\/jobs/.test(path)) return 'bulk';
  return 'rest';
}

export function findRoute(method: string, path: string): { route: Route; params: string[] } | undefined {
  let pathMatched = false;
  for (const route of routes) {
    const m = route.pattern.exec(path);
    if (!m) continue;
    pathMatched = true;
    if (route.method === method) return { route, params: m.slice(1).map((p) => decodeURIComponent(p)) };
  }
  if (pathMatched) throw new SfError('METHOD_NOT_ALLOWED', `HTTP Method '${method}' not allowed. Allowed are ${routes.filter((r) => r.pattern.test(path)).map((r) => r.method).join(',')}`, [], 405);
  return undefined;
}

/** Runs one REST call; Salesforce errors become their status + body, anything else propagates. */
export function dispatch(ctx: RestContext, method: string, path: string, query: Record<string, string>, body: unknown, extra?: Record<string, RestHandler>): RestResponse {
  try {
    const special = extra?.[`${method} ${path.replace(/\/$/, '')}`];
    if (special) return special(ctx, { params: [], query, body });
    const found = findRoute(method, path);
    if (!found) throw notFound();
    return found.route.handler(ctx, { params: found.params, query, body });
  } catch (err) {
    if (err instanceof SfError) return { status: err.status, body: err.toBody() };
    throw err;
  }
}
