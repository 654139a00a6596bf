import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Logger } from '../../observability/logger.ts';
import { SfError } from '../store/errors.ts';
import { bearerToken } from '../server/http-util.ts';
import type { SandboxAdmin } from './admin-api.ts';

const gapSchema = z.object({
  entityName: z.string().min(1),
  recordIds: z.array(z.string()).default([]),
  changeType: z.enum(['GAP_CREATE', 'GAP_UPDATE', 'GAP_DELETE', 'GAP_UNDELETE']).default('GAP_UPDATE'),
}).strict();

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The admin API under /__admin/ (JSON; needs the admin token as Bearer or X-Admin-Token). */
export function registerAdminRoutes(app: FastifyInstance, admin: () => SandboxAdmin, info: () => Record<string, unknown>, logger: Logger): void {
  void app.register(async (scope) => {
    scope.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
      if (req.url === '/__admin/health') return;
      const given = bearerToken(req) ?? (req.headers['x-admin-token'] as string | undefined) ?? '';
      if (!same(given, admin().token)) return reply.code(401).send({ error: 'admin token required (Authorization: Bearer <SF_ADMIN_TOKEN>)' });
    });
    scope.setErrorHandler((err, _req, reply) => {
      if (err instanceof z.ZodError) {
        const issue = err.issues[0]!;
        return reply.code(400).send({ error: `${issue.path.join('.') || '(body)'}: ${issue.message}` });
      }
      if (err instanceof SfError) return reply.code(err.status === 300 ? 409 : err.status).send({ error: err.message, errorCode: err.errorCode, fields: err.fields });
      logger.error({ err }, 'admin request failed');
      return reply.code(500).send({ error: (err as Error).message });
    });
    const body = (req: FastifyRequest) => (req.body ?? {}) as Record<string, unknown>;

    scope.get('/__admin/health', async () => ({ ok: true }));
    scope.get('/__admin/info', async () => info());
    scope.get('/__admin/faults', async () => admin().faults());
    scope.put('/__admin/faults', async (req) => admin().setFaults(body(req)));
    scope.post('/__admin/faults', async (req) => admin().setFaults(body(req)));
    scope.delete('/__admin/faults', async () => admin().clearFaults());
    scope.get('/__admin/latency', async () => admin().latency());
    scope.put('/__admin/latency', async (req) => admin().setLatency(body(req) as Parameters<SandboxAdmin['setLatency']>[0]));
    scope.delete('/__admin/latency', async () => admin().setLatency('none'));
    scope.post('/__admin/faults/expire-sessions', async () => ({ expired: admin().expireSessions() }));
    scope.get('/__admin/quota', async () => admin().quota());
    scope.post('/__admin/faults/quota', async (req) => admin().setQuota(body(req)));
    scope.post('/__admin/faults/pubsub-reset', async () => ({ reset: admin().resetPubSubStreams() }));
    scope.post('/__admin/faults/cometd-drop', async () => ({ dropped: admin().dropCometdClients() }));
    scope.post('/__admin/faults/gap', async (req) => {
      const g = gapSchema.parse(body(req));
      admin().emitGap(g.entityName, g.recordIds, g.changeType);
      return { ok: true };
    });
    scope.post('/__admin/faults/overflow', async (req) => {
      const g = z.object({ entityName: z.string().min(1) }).strict().parse(body(req));
      admin().emitOverflow(g.entityName);
      return { ok: true };
    });
    scope.post('/__admin/faults/expire-events', async () => ({ expired: admin().expireEvents() }));
    scope.post('/__admin/faults/restart', async (req, reply) => {
      const { downMs } = z.object({ downMs: z.number().int().min(0).max(600_000).default(0) }).strict().parse(body(req));
      const current = admin();
      // answer first, then go down (the connection of this very call goes away with the server)
      reply.raw.once('finish', () => {
        setTimeout(() => {
          current.restart(downMs).catch((err: unknown) => logger.error({ err }, 'restart failed'));
        }, 20);
      });
      return reply.code(202).send({ restarting: true, downMs });
    });
    scope.get('/__admin/counters', async () => admin().counters());
    scope.post('/__admin/counters/reset', async () => {
      admin().resetCounters();
      return admin().counters();
    });
    scope.post('/__admin/org/field', async (req) => admin().setField(body(req) as never));
    scope.post('/__admin/org/cdc', async (req) => admin().setChangeDataCapture(body(req) as never));
    scope.post('/__admin/user-edit', async (req) => admin().userEdit(body(req) as never));
  });
}
