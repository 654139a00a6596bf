import formbody from '@fastify/formbody';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Logger } from '../../observability/logger.ts';
import type { AuthSession } from '../auth/session.ts';
import type { SessionStore } from '../auth/sessions.ts';
import { registerOAuthRoutes } from '../auth/oauth-routes.ts';
import type { OrgCredentials } from '../auth/credentials.ts';
import type { Counters } from '../admin/counters.ts';
import { RequestTimeoutAnswer, type Faults } from '../admin/faults.ts';
import { recordsOfRequest, type Latency } from '../admin/latency.ts';
import type { ApiQuota } from '../admin/quota.ts';
import { registerAdminRoutes } from '../admin/routes.ts';
import type { SandboxAdmin } from '../admin/admin-api.ts';
import { registerBulkRoutes, makeBulkQuery, type BulkRoutes } from '../bulk/index.ts';
import { SfError, notFound } from '../store/errors.ts';
import type { OrgStore } from '../store/store.ts';
import { applyBulkRows } from '../store/bulk-writes.ts';
import { composite } from '../rest/composite.ts';
import type { RestContext, RestResponse } from '../rest/context.ts';
import { QueryCursors } from '../rest/query-cursors.ts';
import { apiOf, dispatch } from '../rest/router.ts';
import { resourceList, versionList } from '../rest/resources.ts';
import { callOptionsClient, requireSession, sendSfError } from './http-util.ts';

export interface AppDeps {
  store: OrgStore;
  sessions: SessionStore;
  creds: OrgCredentials;
  quota: ApiQuota;
  faults: Faults;
  latency: Latency;
  counters: Counters;
  dataDir: string;
  tls: { key: string; cert: string };
  logger: Logger;
  admin: () => SandboxAdmin;
  info: () => Record<string, unknown>;
}

const DATA_PATH = /^\/services\/data\/v(\d+\.\d+)(\/[^?]*)?/;

function jsonParseError(text: string, err: Error): SfError {
  const pos = Number(/position (\d+)/.exec(err.message)?.[1] ?? text.length);
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const column = pos - before.lastIndexOf('\n');
  const ch = text[pos];
  const what = ch === undefined ? 'Unexpected end-of-input' : `Unexpected character ('${ch}' (code ${ch.charCodeAt(0)}))`;
  return new SfError('JSON_PARSER_ERROR', `${what}: expected a valid value (number, String, array, object, 'true', 'false' or 'null') at [line:${line}, column:${column}]`, [], 400);
}

/**
 * The emulator's HTTP application: OAuth + SOAP login, REST (sobjects, collections, composite,
 * query, describe, limits), Bulk API 2.0 (helper C's routes) and the admin API. The same app
 * serves the HTTPS port (this instance's server) and the HTTP port (through app.routing).
 */
export async function buildApp(deps: AppDeps): Promise<{ app: FastifyInstance; bulk: BulkRoutes }> {
  const { store, sessions, quota, faults, counters, logger } = deps;
  const app = Fastify({ https: { key: deps.tls.key, cert: deps.tls.cert }, forceCloseConnections: true, bodyLimit: 16 * 1024 * 1024, logger: false });
  const sessionOf = new WeakMap<FastifyRequest, AuthSession>();
  const cursors = new QueryCursors();

  await app.register(formbody);
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = (body as string).trim();
    if (text === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(jsonParseError(text, err as Error), undefined);
    }
  });
  app.addContentTypeParser(['text/xml', 'application/xml', 'application/soap+xml'], { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err, req, reply) => {
    // as Node's own server answers a request it stopped waiting for: no body, connection closed
    if (err instanceof RequestTimeoutAnswer) return reply.code(408).header('connection', 'close').send();
    if (err instanceof SfError) return sendSfError(reply, err);
    const e = err as Error & { statusCode?: number; code?: string };
    if (e.statusCode && e.statusCode < 500) {
      const code = e.statusCode === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : e.statusCode === 413 ? 'REQUEST_ENTITY_TOO_LARGE' : 'INVALID_REQUEST';
      return reply.code(e.statusCode).send([{ errorCode: code, message: e.message }]);
    }
    logger.error({ err, url: req.url, method: req.method }, 'request failed');
    return reply.code(500).send([{ errorCode: 'UNKNOWN_EXCEPTION', message: `An unexpected error occurred: ${e.message}` }]);
  });
  app.setNotFoundHandler((_req, reply) => sendSfError(reply, notFound()));

  app.addHook('onRequest', async (req) => {
    const path = req.url.split('?')[0]!;
    if (path.startsWith('/__admin')) return;
    const data = DATA_PATH.exec(path);
    if (path.startsWith('/services/oauth2') || path.startsWith('/id/')) counters.api('oauth');
    else if (path.startsWith('/services/Soap')) counters.api('soap');
    else if (data) counters.api(apiOf(data[2] ?? ''));
    else if (path !== '/services/data' && path !== '/services/data/') counters.api('other');
    await faults.delay();
    if (!data) return;
    sessionOf.set(req, requireSession(req, sessions.check));
    const fault = faults.httpError({ api: apiOf(data[2] ?? ''), method: req.method, path: data[2] ?? '' });
    if (fault) throw fault;
    quota.take();
  });
  // a real org's time for the call (the latency model): before the handler, so its writes show (and
  // their change events go out) when the call ends, as on a real org
  app.addHook('preHandler', async (req) => {
    if (DATA_PATH.test(req.url.split('?')[0]!)) await deps.latency.serve(recordsOfRequest(req.body));
  });
  app.addHook('onSend', async (req, reply, payload) => {
    const data = DATA_PATH.exec(req.url.split('?')[0]!);
    if (data) {
      reply.header('Sforce-Limit-Info', quota.header());
      await faults.holdAnswer({ api: apiOf(data[2] ?? ''), method: req.method, path: data[2] ?? '' });
      // the client gave up waiting (a timeout that aborts its request closes the connection)
      if (reply.raw.destroyed || req.raw.socket?.destroyed) counters.abandoned();
    }
    return payload;
  });

  registerOAuthRoutes(app, { creds: deps.creds, sessions, logger, refusesLogins: () => faults.refusesLogins() });

  app.get('/services/data', async () => versionList());
  app.get('/services/data/', async () => versionList());

  const restDeps = { store, counters, quota, cursors };
  const context = (req: FastifyRequest, version: string, path: string): RestContext => {
    const batch = /batchSize=(\d+)/.exec(String(req.headers['sforce-query-options'] ?? ''));
    return {
      deps: restDeps, version, session: sessionOf.get(req)!, client: callOptionsClient(req), api: apiOf(path), method: req.method, path,
      queryBatchSize: batch ? Number(batch[1]) : undefined,
    };
  };
  const send = (reply: import('fastify').FastifyReply, res: RestResponse) => {
    reply.code(res.status);
    for (const [k, v] of Object.entries(res.headers ?? {})) reply.header(k, v);
    if (res.status === 204) return reply.send();
    return reply.type('application/json;charset=UTF-8').send(JSON.stringify(res.body ?? null));
  };

  app.get('/services/data/v:version', async (req, reply) => {
    const m = DATA_PATH.exec(req.url)!;
    return send(reply, resourceList(context(req, m[1]!, ''), { params: [], query: {}, body: undefined }));
  });
  app.route({
    method: ['GET', 'POST', 'PATCH', 'DELETE', 'PUT'],
    url: '/services/data/v:version/*',
    handler: async (req, reply) => {
      const m = DATA_PATH.exec(req.url);
      if (!m) throw notFound();
      const path = m[2] ?? '';
      const query = Object.fromEntries(Object.entries((req.query ?? {}) as Record<string, unknown>).map(([k, v]) => [k, Array.isArray(v) ? String(v[0]) : String(v)]));
      const ctx = context(req, m[1]!, path);
      let res: RestResponse;
      if (req.method === 'POST' && path.replace(/\/$/, '') === '/composite') {
        try {
          res = composite(ctx, { params: [], query, body: req.body });
        } catch (err) {
          if (!(err instanceof SfError)) throw err;
          res = { status: err.status, body: err.toBody() };
        }
      } else {
        res = dispatch(ctx, req.method, path, query, req.body);
      }
      return send(reply, res);
    },
  });

  const bulk = registerBulkRoutes(app, {
    checkAuth: (req) => {
      const session = sessionOf.get(req) ?? requireSession(req, sessions.check);
      return { userId: session.userId };
    },
    model: store.model,
    applyBulk: async (object, operation, externalIdFieldName, rows, job) => {
      const info = store.index.object(object);
      if (info) counters.object(info.def.name);
      // the rows are written as the job is processed, after the call that closed it (PATCH state UploadComplete)
      const call = { method: 'PATCH', path: `/jobs/ingest/${job.jobId}` };
      return applyBulkRows(store, object, operation, externalIdFieldName, rows, `com/salesforce/api/rest/${job.apiVersion}${job.client ? `;client=${job.client}` : ''}`, call);
    },
    query: makeBulkQuery(store.model, (name) => store.records(name), (o, f, v) => store.findBy(o, f, v).map((id) => store.get(o, id)!)),
    dataDir: deps.dataDir,
    logger,
    jobHold: faults.jobHold,
    jobTiming: () => deps.latency.bulkJob(),
    defaultUserId: deps.creds.userId,
  });

  registerAdminRoutes(app, deps.admin, deps.info, logger);
  await app.ready();
  return { app, bulk };
}
