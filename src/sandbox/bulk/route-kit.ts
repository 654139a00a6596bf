import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { COLUMN_DELIMITERS } from './csv.ts';
import type { BulkDeps } from './deps.ts';
import { BulkApiError, jobNotFound } from './errors.ts';
import { newJobId } from './ids.ts';
import type { JobStore } from './job-store.ts';
import { sfTimestamp, type Job } from './jobs.ts';

export const BASE_PATH = '/services/data/v:version/jobs';
export const DEFAULT_USER_ID = '005000000000000AAA';

const delimiters = Object.keys(COLUMN_DELIMITERS) as [keyof typeof COLUMN_DELIMITERS, ...Array<keyof typeof COLUMN_DELIMITERS>];

/** The CSV format fields both job kinds accept on creation. */
export const formatFields = {
  contentType: z.literal('CSV').optional(),
  lineEnding: z.enum(['LF', 'CRLF']).optional(),
  columnDelimiter: z.enum(delimiters).optional(),
};
type FormatInput = z.infer<z.ZodObject<typeof formatFields>>;

export const patchSchema = z.object({ state: z.enum(['UploadComplete', 'Aborted']) });

/** What the ingest and query routes share: the job store, the deps and small request helpers. */
export interface RouteKit {
  store: JobStore;
  deps: BulkDeps;
  /** Queues an ingest job that reached UploadComplete for background processing. */
  enqueue(jobId: string): void;
  /** The API version from the path ("60.0"); 404 when it is not one. */
  version(req: FastifyRequest): string;
  /** The job named in the path, of the given kind; 404 NOT_FOUND otherwise. */
  getJob<K extends Job['kind']>(req: FastifyRequest, kind: K): Extract<Job, { kind: K }>;
  /** Fields every new job starts with (id, Open, creator, timestamps, format). */
  newJobBase(req: FastifyRequest, format: FormatInput): ReturnType<typeof jobBase>;
  sendCsv(reply: FastifyReply, csv: string): FastifyReply;
}

type Params = { version: string; jobId: string };

function jobBase(createdById: string, apiVersion: string, format: FormatInput) {
  const now = sfTimestamp();
  return {
    id: newJobId(),
    state: 'Open' as const,
    createdById,
    createdDate: now,
    systemModstamp: now,
    apiVersion,
    lineEnding: format.lineEnding ?? 'LF',
    columnDelimiter: format.columnDelimiter ?? 'COMMA',
    numberRecordsProcessed: 0,
    retries: 0,
    totalProcessingTime: 0,
  };
}

export function createRouteKit(store: JobStore, deps: BulkDeps, enqueue: (jobId: string) => void, userOf: (req: FastifyRequest) => string): RouteKit {
  const version = (req: FastifyRequest): string => {
    const v = (req.params as Params).version;
    if (!/^\d{2,3}\.\d$/.test(v)) throw new BulkApiError(404, 'NOT_FOUND', `The requested resource does not exist (API version v${v})`);
    return v;
  };
  return {
    store,
    deps,
    enqueue,
    version,
    getJob: <K extends Job['kind']>(req: FastifyRequest, kind: K) => {
      const id = (req.params as Params).jobId;
      const job = store.get(id);
      if (!job || job.kind !== kind) throw jobNotFound(id);
      return job as Extract<Job, { kind: K }>;
    },
    newJobBase: (req, format) => jobBase(userOf(req), version(req), format),
    sendCsv: (reply, csv) => reply.code(200).type('text/csv; charset=UTF-8').send(csv),
  };
}

/** Validates a request body; the INVALIDJOB message names each bad field. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) {
    const detail = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; ');
    throw new BulkApiError(400, 'INVALIDJOB', `Invalid job request: ${detail}`);
  }
  return parsed.data;
}

/** Terminal states: nothing more happens to the job. */
export function isFinished(state: Job['state']): boolean {
  return state === 'JobComplete' || state === 'Failed' || state === 'Aborted';
}
