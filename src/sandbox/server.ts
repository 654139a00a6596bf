import http from 'node:http';
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createLogger, type Logger } from '../observability/logger.ts';
import { createCdcHub, type CdcHub } from './cdc/index.ts';
import { loadOrCreateCredentials, loadOrCreateTls, type OrgCredentials, type TlsPair } from './auth/credentials.ts';
import { SessionStore } from './auth/sessions.ts';
import { Counters } from './admin/counters.ts';
import { Faults } from './admin/faults.ts';
import { LATENCY_PRESETS, Latency } from './admin/latency.ts';
import { selectedForChangeDataCapture } from './admin/org-setup.ts';
import { ApiQuota } from './admin/quota.ts';
import { createAdmin, type SandboxAdmin } from './admin/admin-api.ts';
import { loadOrgModel } from './model/load.ts';
import type { OrgModel } from './model/types.ts';
import { OrgStore } from './store/store.ts';
import { buildApp } from './server/app.ts';
import { resolveConfig, type ResolvedSandboxConfig, type SandboxConfig } from './server/config.ts';

export type { SandboxConfig } from './server/config.ts';
export type { SandboxAdmin } from './admin/admin-api.ts';
export type { OrgCredentials } from './auth/credentials.ts';

export interface SandboxHandle {
  /** http://127.0.0.1:<port>: what jsforce's loginUrl points at. */
  loginUrl: string;
  /** https://127.0.0.1:<port>: same app over TLS (the Pub/Sub client wants an https instance URL). */
  httpsUrl: string;
  /** host:port of the Pub/Sub gRPC (TLS) endpoint. */
  pubSubEndpoint: string;
  ports: { http: number; https: number; pubSub: number };
  credentials: OrgCredentials;
  /** The self-signed certificate of the HTTPS and gRPC endpoints (trust it, or skip verification). */
  caCertPath: string;
  /** API version of the CometD path and of /services/data defaults. */
  apiVersion: string;
  admin: SandboxAdmin;
  /** Stops everything; the data dir is kept (start again with the same config to resume). */
  stop(): Promise<void>;
}

interface Core {
  store: OrgStore;
  sessions: SessionStore;
  quota: ApiQuota;
  hub: CdcHub;
  app: FastifyInstance;
  httpServer: http.Server;
  ports: { http: number; https: number; pubSub: number };
  close(): Promise<void>;
}

interface Shared {
  cfg: ResolvedSandboxConfig;
  dataDir: string;
  model: OrgModel;
  creds: OrgCredentials;
  tls: TlsPair;
  faults: Faults;
  latency: Latency;
  counters: Counters;
  logger: Logger;
  admin: () => SandboxAdmin;
  info: () => Record<string, unknown>;
}

function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolveListen((server.address() as AddressInfo).port);
    });
  });
}

async function bootCore(shared: Shared, ports: { http: number; https: number; pubSub: number }): Promise<Core> {
  const { cfg, dataDir, model, creds, tls, faults, latency, counters, logger } = shared;
  const store = new OrgStore({ dataDir, model, userId: creds.userId, logger });
  store.setWriteHook(faults.recordWrite);
  store.setWriteCallListener((call) => counters.writeCall(call));
  const sessions = new SessionStore(dataDir, creds, cfg.sessionTtlSeconds * 1000);
  const quota = new ApiQuota(dataDir, cfg.dailyApiLimit);
  const hub = createCdcHub({
    model, dataDir: join(dataDir, 'cdc'), retentionMs: cfg.cdcRetentionMs, apiVersion: cfg.apiVersion,
    checkToken: sessions.check, tls: { key: tls.key, cert: tls.cert }, pubSubPort: ports.pubSub, pubSubHost: cfg.host,
    keepaliveMs: cfg.pubSubKeepaliveMs, longPollSeconds: cfg.cometdLongPollSeconds, logger: logger.child({ part: 'cdc' }),
  });
  store.setListener((tx) => {
    // objects not selected for Change Data Capture publish nothing; then the dropChangeEvents fault
    const published = faults.publishable(selectedForChangeDataCapture(store, tx));
    if (published.changes.length > 0) hub.publish(published);
  });
  const { app } = await buildApp({
    store, sessions, creds, quota, faults, latency, counters, dataDir, tls, logger, admin: shared.admin, info: shared.info,
  });
  const httpServer = http.createServer((req, res) => app.routing(req, res));
  hub.cometd.attach(httpServer);
  hub.cometd.attach(app.server as unknown as http.Server);
  let httpsPort: number, httpPort: number, pubSubPort: number;
  try {
    httpsPort = await listen(app.server as unknown as http.Server, ports.https, cfg.host);
    httpPort = await listen(httpServer, ports.http, cfg.host);
    pubSubPort = (await hub.pubsub.start()).port;
  } catch (err) {
    // a taken port: release what was opened, then report which port
    httpServer.close();
    await app.close().catch(() => undefined);
    await hub.close().catch(() => undefined);
    store.close();
    sessions.close();
    throw new Error(`the sandbox org could not listen (http ${ports.http}, https ${ports.https}, pubsub ${ports.pubSub}): ${(err as Error).message}`, { cause: err });
  }
  const actual = { http: httpPort, https: httpsPort, pubSub: pubSubPort };
  logger.info({ ports: actual }, 'sandbox org listening');
  return {
    store, sessions, quota, hub, app, httpServer, ports: actual,
    async close() {
      // stop answering first (clients see refused connections), then the CDC endpoints, then the data
      await Promise.all([
        new Promise<void>((r) => {
          httpServer.close(() => r());
          httpServer.closeAllConnections();
        }),
        app.close(),
      ]);
      await hub.close().catch((err: unknown) => logger.warn({ err }, 'closing the CDC hub failed'));
      quota.save();
      store.close();
      sessions.close();
    },
  };
}

/**
 * Starts the Salesforce org emulator in this process: HTTP + HTTPS (same app), Pub/Sub gRPC,
 * CometD. Data (records, sessions, CDC log, certificates, credentials) lives in config.dataDir.
 */
export async function startSandbox(config: SandboxConfig): Promise<SandboxHandle> {
  const cfg = resolveConfig(config);
  const dataDir = resolve(cfg.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const logger = createLogger('sandbox', cfg.logLevel);
  const model = loadOrgModel(cfg.modelFile);
  const creds = await loadOrCreateCredentials(dataDir, cfg.credentials ?? {});
  const tls = await loadOrCreateTls(dataDir);
  let core: Core | undefined;
  const ref: { admin?: SandboxAdmin; handle?: SandboxHandle } = {};
  let restarting: Promise<void> | undefined;
  const faults = new Faults();
  const latency = new Latency(LATENCY_PRESETS[cfg.latency]);
  const counters = new Counters();

  const info = () => ({
    loginUrl: ref.handle?.loginUrl, httpsUrl: ref.handle?.httpsUrl, pubSubEndpoint: ref.handle?.pubSubEndpoint,
    username: creds.username, orgId: creds.orgId, userId: creds.userId, clientId: creds.clientId,
    privateKeyPath: creds.jwtPrivateKeyPath, certPath: creds.jwtCertPath, caCertPath: tls.certPath, apiVersion: cfg.apiVersion,
  });
  const shared: Shared = { cfg, dataDir, model, creds, tls, faults, latency, counters, logger, admin: () => ref.admin!, info };

  core = await bootCore(shared, { http: cfg.httpPort, https: cfg.httpsPort, pubSub: cfg.pubSubPort });
  const ports = core.ports;
  const host = cfg.host;
  const loginUrl = `http://${host}:${ports.http}`;

  const restart = async (downMs: number) => {
    if (restarting) return restarting;
    restarting = (async () => {
      logger.warn({ downMs }, 'sandbox restart (fault injection)');
      const old = core;
      core = undefined;
      await old?.close();
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      core = await bootCore(shared, ports);
    })().finally(() => { restarting = undefined; });
    return restarting;
  };

  const admin = createAdmin(`${loginUrl}/__admin`, creds.adminToken, {
    store: () => { if (!core) throw new Error('the sandbox is restarting'); return core.store; },
    hub: () => core?.hub,
    expireSessions: () => core?.sessions.expireAll() ?? 0,
    quota: () => { if (!core) throw new Error('the sandbox is restarting'); return core.quota; },
    faults,
    latency,
    counters,
    restart,
  });

  ref.admin = admin;
  const handle: SandboxHandle = {
    loginUrl,
    httpsUrl: `https://${host}:${ports.https}`,
    pubSubEndpoint: `${host}:${ports.pubSub}`,
    ports,
    credentials: creds,
    caCertPath: tls.certPath,
    apiVersion: cfg.apiVersion,
    admin,
    async stop() {
      if (restarting) await restarting.catch(() => undefined);
      const c = core;
      core = undefined;
      await c?.close();
    },
  };
  ref.handle = handle;
  return handle;
}
