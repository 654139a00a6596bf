import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

/** Something whose readiness /readyz reports (a processor, a source...). */
export interface ReadinessCheck {
  name: string;
  ready(): boolean;
}

export interface HealthServerOptions {
  registry: Registry;
  checks: ReadinessCheck[];
  host?: string;
  /** 0 = ephemeral (tests). */
  port?: number;
}

export interface HealthServer {
  url: string;
  port: number;
  /** Add a check later (e.g. processors created after the server). */
  addCheck(check: ReadinessCheck): void;
  close(): Promise<void>;
}

/**
 * Serves /metrics (Prometheus text), /healthz (the process answers) and /readyz (200 when
 * every check is ready — for processors: joined the group and state restored — else 503, with
 * the state of each check in the body).
 */
export async function startHealthServer(opts: HealthServerOptions): Promise<HealthServer> {
  const checks = [...opts.checks];
  const app: FastifyInstance = Fastify({ logger: false });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const states = Object.fromEntries(checks.map((c) => [c.name, safeReady(c)]));
    const ready = checks.length > 0 && Object.values(states).every(Boolean);
    return reply.code(ready ? 200 : 503).send({ ready, checks: states });
  });
  app.get('/metrics', async (_req, reply) => {
    const body = await opts.registry.metrics();
    return reply.header('content-type', opts.registry.contentType).send(body);
  });
  const host = opts.host ?? '127.0.0.1';
  await app.listen({ host, port: opts.port ?? 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port ?? 0;
  return {
    url: `http://${host}:${port}`,
    port,
    addCheck: (c) => { checks.push(c); },
    close: () => app.close(),
  };
}

function safeReady(check: ReadinessCheck): boolean {
  try {
    return check.ready();
  } catch {
    return false;
  }
}
