import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import { Gauge, type Registry } from 'prom-client';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A route anyone may ask, even when the server has an access token (it serves no data). */
    public?: boolean;
  }
}

/** Something whose readiness /readyz reports (a processor, a source...). */
export interface ReadinessCheck {
  name: string;
  ready(): boolean;
  /** False when the stage is dead (its consumer crashed for good): /healthz fails. Absent: alive. */
  live?(): boolean;
  /** Why the stage is paused (an error of its environment, see StagePause), if it is. */
  paused?(): { since: string; reason: string } | undefined;
}

export interface HealthServerOptions {
  registry: Registry;
  checks: ReadinessCheck[];
  /** Listen address: 127.0.0.1 by default; 0.0.0.0 (every interface) in a container. */
  host?: string;
  /** 0 = ephemeral (tests). */
  port?: number;
  /**
   * When set, every request needs `Authorization: Bearer <token>` (else 401), except routes
   * marked `config: { public: true }` (the status page's HTML and scripts, which hold no data).
   */
  accessToken?: string;
  /** More routes on the same address and token (the status page). */
  routes?: FastifyPluginAsync[];
}

export interface HealthServer {
  url: string;
  port: number;
  /** Add a check later (e.g. processors created after the server). */
  addCheck(check: ReadinessCheck): void;
  close(): Promise<void>;
}

/**
 * Serves /metrics (Prometheus text), /healthz (200 while every stage is alive; 503 naming the dead
 * ones, whose consumer crashed for good) and /readyz (200 when every check is ready — for
 * processors: joined the group and state restored — and none is paused, else 503, with the state of
 * each check and the reason of each pause in the body).
 */
export async function startHealthServer(opts: HealthServerOptions): Promise<HealthServer> {
  const checks = [...opts.checks];
  // what /readyz says, as a metric: an alert rule can tell a stage that never became ready
  if (!opts.registry.getSingleMetric('shopforce_ready')) {
    new Gauge({
      name: 'shopforce_ready', help: 'Whether a stage is ready (1) or not (0), as /readyz reports it.', labelNames: ['stage'], registers: [opts.registry],
      collect() {
        for (const c of checks) this.set({ stage: c.name }, safeReady(c) && !safePaused(c) ? 1 : 0);
      },
    });
  }
  const app: FastifyInstance = Fastify({ logger: false });
  if (opts.accessToken) {
    const expected = digest(opts.accessToken);
    app.addHook('onRequest', async (req, reply) => {
      if (req.routeOptions.config?.public) return;
      const given = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
      if (!given || !timingSafeEqual(digest(given), expected)) {
        return reply.code(401).header('www-authenticate', 'Bearer realm="shopforce"').send({ error: 'a bearer token is needed (observability.accessToken)' });
      }
    });
  }
  app.get('/healthz', async (_req, reply) => {
    const dead = checks.filter((c) => !safeLive(c)).map((c) => c.name);
    return dead.length === 0 ? { status: 'ok' } : reply.code(503).send({ status: 'dead', dead });
  });
  app.get('/readyz', async (_req, reply) => {
    const states = Object.fromEntries(checks.map((c) => [c.name, safeReady(c) && !safePaused(c)]));
    const paused = Object.fromEntries(checks.flatMap((c) => {
      const p = safePaused(c);
      return p ? [[c.name, { since: p.since, reason: p.reason }]] : [];
    }));
    const ready = checks.length > 0 && Object.values(states).every(Boolean);
    return reply.code(ready ? 200 : 503).send({ ready, checks: states, ...(Object.keys(paused).length ? { paused } : {}) });
  });
  app.get('/metrics', async (_req, reply) => {
    const body = await opts.registry.metrics();
    return reply.header('content-type', opts.registry.contentType).send(body);
  });
  for (const routes of opts.routes ?? []) await app.register(routes);
  const host = opts.host ?? '127.0.0.1';
  await app.listen({ host, port: opts.port ?? 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port ?? 0;
  // 0.0.0.0 / :: listen everywhere; a client on this machine reaches them on the loopback address
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${reachable}:${port}`,
    port,
    addCheck: (c) => { checks.push(c); },
    close: () => app.close(),
  };
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** A check's readiness; a check that throws is not ready. */
export function safeReady(check: ReadinessCheck): boolean {
  try {
    return check.ready();
  } catch {
    return false;
  }
}

/** A check's liveness; a check that throws is dead. */
export function safeLive(check: ReadinessCheck): boolean {
  try {
    return check.live ? check.live() : true;
  } catch {
    return false;
  }
}

/** A check's pause; a check that throws counts as not paused (its readiness says the rest). */
function safePaused(check: ReadinessCheck): { since: string; reason: string } | undefined {
  try {
    return check.paused?.();
  } catch {
    return undefined;
  }
}
