import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseSoql } from '../soql/parser.ts';
import { toCsv } from './csv.ts';
import { BulkApiError } from './errors.ts';
import { jobInfo, sfTimestamp, type QueryJob } from './jobs.ts';
import { BASE_PATH, formatFields, isFinished, parseBody, patchSchema, type RouteKit } from './route-kit.ts';

/** Rows per results page when the client sends no maxRecords. */
export const DEFAULT_QUERY_PAGE_SIZE = 50_000;

const createQuerySchema = z.object({
  operation: z.enum(['query', 'queryAll']),
  query: z.string().min(1),
  ...formatFields,
});

/**
 * /jobs/query: the query runs when the job is created (a snapshot; SOQL errors answer 400 with
 * their code), the job reports JobComplete from the next poll, results page by Sforce-Locator.
 */
export function registerQueryRoutes(app: FastifyInstance, kit: RouteKit): void {
  const { store, deps } = kit;

  app.post(`${BASE_PATH}/query`, async (req, reply) => {
    const body = parseBody(createQuerySchema, req.body);
    const apiVersion = kit.version(req);
    const parsed = parseSoql(body.query);
    if (parsed.select.some((item) => item.kind === 'count')) {
      throw new BulkApiError(400, 'INVALIDJOB', 'Bulk API 2.0 query jobs do not support aggregate queries such as COUNT()');
    }
    const started = Date.now();
    const result = await deps.query(body.query, body.operation === 'queryAll', apiVersion);
    const object = deps.model.objects.find((o) => o.name.toLowerCase() === parsed.from.name.toLowerCase())?.name ?? parsed.from.name;
    const job: QueryJob = {
      ...kit.newJobBase(req, body),
      kind: 'query',
      object,
      operation: body.operation,
      query: body.query,
      state: 'UploadComplete',
    };
    store.saveQueryRows(job.id, result);
    store.save(job);
    const done: QueryJob = {
      ...job, state: 'JobComplete', numberRecordsProcessed: result.rows.length,
      totalProcessingTime: Date.now() - started, systemModstamp: sfTimestamp(),
    };
    setImmediate(() => {
      if (store.get(job.id)?.state === 'UploadComplete') store.save(done);
    });
    deps.logger.info({ jobId: job.id, object, rows: result.rows.length }, 'bulk query job created');
    return reply.code(200).send(jobInfo(job));
  });

  app.get(`${BASE_PATH}/query`, async (req) => {
    kit.version(req);
    return { done: true, records: store.all().filter((j) => j.kind === 'query').map(jobInfo), nextRecordsUrl: null };
  });

  app.get(`${BASE_PATH}/query/:jobId`, async (req) => jobInfo(kit.getJob(req, 'query')));

  app.patch(`${BASE_PATH}/query/:jobId`, async (req) => {
    const job = kit.getJob(req, 'query');
    const { state } = parseBody(patchSchema, req.body);
    if (state !== 'Aborted') throw new BulkApiError(400, 'INVALIDJOBSTATE', 'A query job can only be set to Aborted');
    if (isFinished(job.state)) {
      throw new BulkApiError(409, 'INVALIDJOBSTATE', `Job ${job.id} is ${job.state}: it can no longer be aborted`);
    }
    const aborted: QueryJob = { ...job, state: 'Aborted', systemModstamp: sfTimestamp() };
    store.save(aborted);
    return jobInfo(aborted);
  });

  app.delete(`${BASE_PATH}/query/:jobId`, async (req, reply) => {
    const job = kit.getJob(req, 'query');
    store.delete(job.id);
    return reply.code(204).send();
  });

  app.get(`${BASE_PATH}/query/:jobId/results`, async (req, reply) => {
    const job = kit.getJob(req, 'query');
    if (job.state !== 'JobComplete') {
      throw new BulkApiError(400, 'INVALIDJOBSTATE', `Job ${job.id} is ${job.state}: results are available once it is JobComplete`);
    }
    const result = store.queryRows(job.id) ?? { columns: [], rows: [] };
    const { locator, maxRecords } = req.query as { locator?: string; maxRecords?: string };
    const offset = locator === undefined || locator === '' ? 0 : decodeLocator(locator, result.rows.length);
    const pageSize = maxRecords === undefined ? deps.queryPageSize ?? DEFAULT_QUERY_PAGE_SIZE : Number(maxRecords);
    if (!Number.isInteger(pageSize) || pageSize <= 0) {
      throw new BulkApiError(400, 'INVALIDJOB', `maxRecords must be a positive integer, got '${maxRecords}'`);
    }
    const page = result.rows.slice(offset, offset + pageSize);
    const next = offset + page.length;
    void reply.header('Sforce-NumberOfRecords', String(page.length));
    // the literal "null" marks the last page: jsforce loops until it sees it
    void reply.header('Sforce-Locator', next < result.rows.length ? encodeLocator(next) : 'null');
    return kit.sendCsv(reply, toCsv(result.columns, page.map((row) => result.columns.map((c) => row[c])), job));
  });
}

function encodeLocator(offset: number): string {
  return Buffer.from(String(offset)).toString('base64url');
}

function decodeLocator(locator: string, total: number): number {
  const offset = Number(Buffer.from(locator, 'base64url').toString('utf8'));
  if (!Number.isInteger(offset) || offset < 0 || offset > total) {
    throw new BulkApiError(400, 'INVALIDLOCATOR', `Invalid locator: ${locator}`);
  }
  return offset;
}
