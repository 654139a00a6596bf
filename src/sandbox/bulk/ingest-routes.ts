import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseCsv, toCsv } from './csv.ts';
import { BulkApiError } from './errors.ts';
import type { JobStore } from './job-store.ts';
import { jobInfo, sfTimestamp, type IngestJob } from './jobs.ts';
import { BASE_PATH, formatFields, isFinished, parseBody, patchSchema, type RouteKit } from './route-kit.ts';

/** Salesforce's limit on one job data upload. */
export const MAX_UPLOAD_BYTES = 150 * 1024 * 1024;

const createIngestSchema = z.object({
  object: z.string().min(1),
  operation: z.enum(['insert', 'update', 'upsert', 'delete', 'hardDelete']),
  externalIdFieldName: z.string().min(1).optional(),
  assignmentRuleId: z.string().optional(),
  ...formatFields,
});

/** /jobs/ingest: create, upload CSV, close or abort, job info, list, delete, result CSVs. */
export function registerIngestRoutes(app: FastifyInstance, kit: RouteKit): void {
  const { store, deps } = kit;
  const log = deps.logger;

  app.post(`${BASE_PATH}/ingest`, async (req, reply) => {
    const body = parseBody(createIngestSchema, req.body);
    const object = deps.model.objects.find((o) => o.name.toLowerCase() === body.object.toLowerCase());
    if (!object) throw new BulkApiError(400, 'INVALIDJOB', `Unable to find object: ${body.object}`);
    let externalIdFieldName: string | undefined;
    if (body.operation === 'upsert') {
      const wanted = body.externalIdFieldName;
      if (!wanted) {
        throw new BulkApiError(400, 'INVALIDJOB', `External ID was blank for ${object.name}. An External ID must be specified for upsert.`);
      }
      const field = wanted.toLowerCase() === 'id'
        ? { name: 'Id', externalId: true }
        : object.fields.find((f) => f.name.toLowerCase() === wanted.toLowerCase());
      if (!field?.externalId) {
        throw new BulkApiError(400, 'INVALIDJOB', `Field ${wanted} on ${object.name} is not an External ID or indexed field`);
      }
      externalIdFieldName = field.name;
    }
    const job: IngestJob = {
      ...kit.newJobBase(req, body),
      kind: 'ingest',
      object: object.name,
      operation: body.operation,
      ...(externalIdFieldName ? { externalIdFieldName } : {}),
      client: callOptionsClient(req.headers['sforce-call-options']),
      numberRecordsFailed: 0,
      apiActiveProcessingTime: 0,
      apexProcessingTime: 0,
      uploads: 0,
      uploadBytes: 0,
    };
    store.save(job);
    log.info({ jobId: job.id, object: job.object, operation: job.operation }, 'bulk ingest job created');
    return reply.code(200).send(jobInfo(job));
  });

  app.get(`${BASE_PATH}/ingest`, async (req) => {
    kit.version(req);
    return { done: true, records: store.all().filter((j) => j.kind === 'ingest').map(jobInfo), nextRecordsUrl: null };
  });

  app.get(`${BASE_PATH}/ingest/:jobId`, async (req) => jobInfo(kit.getJob(req, 'ingest')));

  app.put(`${BASE_PATH}/ingest/:jobId/batches`, { bodyLimit: MAX_UPLOAD_BYTES }, async (req, reply) => {
    const job = kit.getJob(req, 'ingest');
    if (job.state !== 'Open') {
      throw new BulkApiError(409, 'INVALIDJOBSTATE', `Job ${job.id} is ${job.state}: data can only be uploaded to an Open job`);
    }
    // a parser registered by the host app may hand over a Buffer instead of a string
    const csv = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : req.body;
    if (typeof csv !== 'string' || csv.length === 0) {
      throw new BulkApiError(400, 'INVALIDJOB', 'The request has no CSV data (send Content-Type: text/csv)');
    }
    const bytes = Buffer.byteLength(csv);
    if (job.uploadBytes + bytes > MAX_UPLOAD_BYTES) {
      throw new BulkApiError(400, 'INVALIDJOB', 'The job data exceeds the 150 MB limit of one job');
    }
    store.addUpload(job.id, job.uploads, csv);
    store.save({ ...job, uploads: job.uploads + 1, uploadBytes: job.uploadBytes + bytes, systemModstamp: sfTimestamp() });
    return reply.code(201).send();
  });

  app.patch(`${BASE_PATH}/ingest/:jobId`, async (req) => {
    const job = kit.getJob(req, 'ingest');
    const { state } = parseBody(patchSchema, req.body);
    if (state === 'UploadComplete') {
      if (job.state !== 'Open') throw new BulkApiError(409, 'INVALIDJOBSTATE', `Job ${job.id} is ${job.state}: only an Open job can be closed`);
      if (job.uploads === 0) throw new BulkApiError(400, 'INVALIDJOBSTATE', `Job ${job.id} has no data uploaded`);
      const closed: IngestJob = { ...job, state: 'UploadComplete', systemModstamp: sfTimestamp() };
      store.save(closed);
      kit.enqueue(job.id);
      return jobInfo(closed);
    }
    if (isFinished(job.state)) {
      throw new BulkApiError(409, 'INVALIDJOBSTATE', `Job ${job.id} is ${job.state}: it can no longer be aborted`);
    }
    const aborted: IngestJob = { ...job, state: 'Aborted', systemModstamp: sfTimestamp() };
    store.save(aborted);
    return jobInfo(aborted);
  });

  app.delete(`${BASE_PATH}/ingest/:jobId`, async (req, reply) => {
    const job = kit.getJob(req, 'ingest');
    if (job.state === 'InProgress') throw new BulkApiError(409, 'INVALIDJOBSTATE', `Job ${job.id} is InProgress: abort it or wait before deleting`);
    store.delete(job.id);
    return reply.code(204).send();
  });

  app.get(`${BASE_PATH}/ingest/:jobId/successfulResults`, async (req, reply) => {
    const job = kit.getJob(req, 'ingest');
    const results = store.results(job.id) ?? { header: [], rows: [] };
    const rows = results.rows.filter((r) => r.processed && r.error === undefined)
      .map((r) => [r.id ?? '', r.created ? 'true' : 'false', ...r.values]);
    return kit.sendCsv(reply, toCsv(['sf__Id', 'sf__Created', ...results.header], rows, job));
  });

  app.get(`${BASE_PATH}/ingest/:jobId/failedResults`, async (req, reply) => {
    const job = kit.getJob(req, 'ingest');
    const results = store.results(job.id) ?? { header: [], rows: [] };
    const rows = results.rows.filter((r) => r.processed && r.error !== undefined)
      .map((r) => [r.id ?? '', r.error ?? '', ...r.values]);
    return kit.sendCsv(reply, toCsv(['sf__Id', 'sf__Error', ...results.header], rows, job));
  });

  app.get(`${BASE_PATH}/ingest/:jobId/unprocessedrecords`, async (req, reply) => {
    const job = kit.getJob(req, 'ingest');
    const results = store.results(job.id);
    if (results && results.header.length > 0) {
      return kit.sendCsv(reply, toCsv(results.header, results.rows.filter((r) => !r.processed).map((r) => r.values), job));
    }
    // never processed (aborted, or the CSV could not be read): every uploaded row is unprocessed
    const uploaded = readUploadsLeniently(store, job);
    return kit.sendCsv(reply, uploaded.header.length ? toCsv(uploaded.header, uploaded.rows, job) : '');
  });
}

/** `client=<name>` from a Sforce-Call-Options header ('' when absent). */
function callOptionsClient(header: string | string[] | undefined): string {
  const text = Array.isArray(header) ? header.join(',') : header ?? '';
  const match = /(?:^|,)\s*client=([^,]*)/.exec(text);
  return match ? match[1].trim() : '';
}

function readUploadsLeniently(store: JobStore, job: IngestJob): { header: string[]; rows: string[][] } {
  let header: string[] = [];
  const rows: string[][] = [];
  for (const text of store.uploads(job.id, job.uploads)) {
    try {
      const parsed = parseCsv(text, job);
      header = parsed.header;
      rows.push(...parsed.rows);
    } catch {
      // unreadable upload: nothing to report for it
    }
  }
  return { header, rows };
}
