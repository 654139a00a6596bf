import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { BulkDeps } from './deps.ts';
import { toHttpError } from './errors.ts';
import { processIngestJob, sleepWhile } from './ingest.ts';
import { MAX_UPLOAD_BYTES, registerIngestRoutes } from './ingest-routes.ts';
import { JobStore } from './job-store.ts';
import { sfTimestamp } from './jobs.ts';
import { registerQueryRoutes } from './query-routes.ts';
import { createRouteKit, DEFAULT_USER_ID } from './route-kit.ts';

/** What registerBulkRoutes hands back: wait for background processing (tests, shutdown). */
export interface BulkRoutes {
  /** Resolves when every queued ingest job has been processed. */
  idle(): Promise<void>;
}

const RESTARTED = 'InternalServerError : the emulator restarted while the job was in progress';

/**
 * Bulk API 2.0 under /services/data/v<version>/jobs/{ingest,query} as an encapsulated fastify
 * plugin: its own error handler (Salesforce `[{errorCode, message}]` bodies), a text/csv parser
 * (150 MB), deps.checkAuth on every request, and ingest jobs processed one at a time in the
 * background after UploadComplete (side by side under the latency model, which gives each its time). Jobs persist under deps.dataDir and resume after a restart.
 */
export function registerBulkRoutes(app: FastifyInstance, deps: BulkDeps): BulkRoutes {
  const store = new JobStore(deps.dataDir);
  const log = deps.logger;
  let queue: Promise<void> = Promise.resolve();
  let closing = false;
  const users = new WeakMap<FastifyRequest, string>();

  const queueJob = (jobId: string): void => {
    queue = queue
      .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
      .then(() => (closing ? undefined : processIngestJob(jobId, store, deps)))
      .catch((error: unknown) => log.error({ jobId, err: error }, 'bulk ingest processing crashed'));
  };
  // jobs held by a fault wait outside the queue (the others go on), until the hold ends or they are aborted;
  // jobs under the latency model are processed outside it too, side by side, as a real org processes them
  const held = new Set<Promise<void>>();
  const enqueue = (jobId: string): void => {
    const holdMs = deps.jobHold?.() ?? 0;
    const timing = deps.jobTiming?.() ?? { queueMs: 0, perRecordMs: 0 };
    if (holdMs > 0) log.info({ jobId, holdMs }, 'bulk ingest job held before processing (fault)');
    if (timing.queueMs <= 0 && timing.perRecordMs <= 0) {
      if (holdMs <= 0) return queueJob(jobId);
      return track(waitUnlessAborted(store, jobId, holdMs, () => closing).then(() => queueJob(jobId)));
    }
    track(waitUnlessAborted(store, jobId, holdMs + timing.queueMs, () => closing)
      .then(() => (closing ? undefined : processIngestJob(jobId, store, deps, { perRecordMs: timing.perRecordMs, closing: () => closing })))
      .catch((error: unknown) => log.error({ jobId, err: error }, 'bulk ingest processing crashed')));
  };
  const track = (work: Promise<void>): void => {
    held.add(work);
    void work.finally(() => held.delete(work));
  };

  recoverAfterRestart(store, enqueue);

  void app.register(async (child) => {
    child.setErrorHandler((error, _req, reply) => {
      const { status, body } = toHttpError(error);
      if (status >= 500) log.error({ err: error }, 'bulk request failed');
      void reply.code(status).type('application/json').send(body);
    });
    if (!child.hasContentTypeParser('text/csv')) {
      child.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit: MAX_UPLOAD_BYTES }, (_req, body, done) => done(null, body));
    }
    child.addHook('onRequest', async (req) => {
      const session = await deps.checkAuth(req);
      users.set(req, session?.userId ?? deps.defaultUserId ?? DEFAULT_USER_ID);
    });
    child.addHook('onClose', async () => {
      closing = true;
      await Promise.all([queue, ...held]);
    });
    const kit = createRouteKit(store, deps, enqueue, (req) => users.get(req) ?? DEFAULT_USER_ID);
    registerIngestRoutes(child, kit);
    registerQueryRoutes(child, kit);
  });

  return {
    idle: async () => {
      for (;;) {
        const current = queue;
        await Promise.all([current, ...held]);
        if (current === queue && held.size === 0) return;
      }
    },
  };
}

/** Resolves after `ms`, or sooner once the job is aborted (or gone, or the server closing). */
function waitUnlessAborted(store: JobStore, jobId: string, ms: number, closing: () => boolean): Promise<void> {
  return sleepWhile(ms, () => !closing() && store.get(jobId)?.state === 'UploadComplete');
}

/** After a restart: queued jobs are processed, ones cut off mid-way are Failed (their batches may be partly applied). */
function recoverAfterRestart(store: JobStore, enqueue: (jobId: string) => void): void {
  for (const job of store.all()) {
    if (job.kind === 'ingest' && job.state === 'UploadComplete') {
      enqueue(job.id);
    } else if (job.kind === 'ingest' && job.state === 'InProgress') {
      store.save({ ...job, state: 'Failed', errorMessage: RESTARTED, systemModstamp: sfTimestamp() });
    } else if (job.kind === 'query' && (job.state === 'UploadComplete' || job.state === 'InProgress')) {
      const rows = store.queryRows(job.id);
      store.save(rows
        ? { ...job, state: 'JobComplete', numberRecordsProcessed: rows.rows.length, systemModstamp: sfTimestamp() }
        : { ...job, state: 'Failed', errorMessage: RESTARTED, systemModstamp: sfTimestamp() });
    }
  }
}
