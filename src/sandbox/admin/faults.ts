import { randomInt } from 'node:crypto';
import { z } from 'zod';
import { SfError } from '../store/errors.ts';
import type { CommittedTransaction } from '../cdc/change-event.ts';
import type { WriteCall } from '../store/store.ts';
import type { ApiName } from './counters.ts';

const ratio = z.number().min(0).max(1);

/** Statuses a failNext may give without an errorCode. */
const STATUS_DEFAULTS = new Set([408, 500, 503]);

/** The data APIs a failNext can be limited to. */
const FAULT_APIS = ['rest', 'composite', 'collections', 'bulk', 'query'] as const;

/**
 * The next `count` calls fail, deterministically. With a status: the whole call is answered with
 * it (500 UNKNOWN_EXCEPTION and 503 SERVER_UNAVAILABLE by default; any other status needs its
 * errorCode). With an errorCode alone: every record write of each of the next `count` calls that
 * write records is refused with it (e.g. UNABLE_TO_LOCK_ROW), as a record-level error.
 */
const failNextSchema = z.object({
  count: z.number().int().min(1).max(1_000_000),
  status: z.number().int().min(400).max(599).optional(),
  errorCode: z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'must be a Salesforce error code (UPPER_CASE)').optional(),
  message: z.string().min(1).optional(),
  /** Only calls of this API count (and fail); any data API call when absent. */
  api: z.enum(FAULT_APIS).optional(),
  /** Only calls of this HTTP method count (and fail). */
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).optional(),
  /**
   * Only calls to this path count (and fail): the part after /services/data/vXX.X, `*` standing for
   * one path segment, e.g. `/jobs/ingest/* /batches` (without the space) for Bulk API 2.0 uploads.
   */
  path: z.string().regex(/^\//, 'must start with /').optional(),
}).strict()
  .refine((f) => f.status !== undefined || f.errorCode !== undefined, { message: 'status or errorCode is required' })
  .refine((f) => f.status === undefined || STATUS_DEFAULTS.has(f.status) || f.errorCode !== undefined,
    { message: 'errorCode is required with a status other than 408, 500 or 503' });

export type FailNext = z.infer<typeof failNextSchema>;

/**
 * The answers of the next `count` matching calls are held back `ms` after the call was handled (its
 * writes done): a client that gives up meanwhile finds its write landed anyway, as when a real org
 * answers late. A client that aborts closes the connection; the counters count it (`abandoned`).
 */
const holdNextSchema = z.object({
  count: z.number().int().min(1).max(1_000_000),
  ms: z.number().int().min(1).max(600_000),
  api: z.enum(FAULT_APIS).optional(),
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).optional(),
  /** As failNext's path. */
  path: z.string().regex(/^\//, 'must start with /').optional(),
}).strict();
export type HoldNext = z.infer<typeof holdNextSchema>;

/**
 * The next `count` Bulk API 2.0 ingest jobs closed (UploadComplete) wait `ms` before they are
 * processed, as jobs queued in a busy org do. Aborting one meanwhile ends its wait: it is never
 * processed, as Salesforce processes no aborted job.
 */
const holdJobsSchema = z.object({
  count: z.number().int().min(1).max(1_000_000),
  ms: z.number().int().min(1).max(600_000),
}).strict();
export type HoldJobs = z.infer<typeof holdJobsSchema>;

/**
 * The change events of the next `count` committed transactions that change `object` (any object when
 * absent) are not published: their writes happen behind the back of every subscriber, as a record
 * changed while no event reached the integration.
 */
const dropChangeEventsSchema = z.object({
  count: z.number().int().min(1).max(1_000_000),
  object: z.string().min(1).optional(),
}).strict();

export type DropChangeEvents = z.infer<typeof dropChangeEventsSchema>;

export const faultSettingsSchema = z.object({
  /** Added to every API answer (REST, Bulk, OAuth, SOAP). */
  latencyMs: z.number().int().min(0).max(120_000),
  /** Share of data API calls answered 500 UNKNOWN_EXCEPTION. */
  http500Ratio: ratio,
  /** Share of data API calls answered 503 SERVER_UNAVAILABLE. */
  http503Ratio: ratio,
  /** Share of record writes refused with UNABLE_TO_LOCK_ROW. */
  lockRowRatio: ratio,
  /** The next N calls fail (count is what is left of them); null: none. */
  failNext: failNextSchema.nullable(),
  /** The answers of the next N calls are held back (count is what is left of them); null: none. */
  holdNext: holdNextSchema.nullable(),
  /** The next N Bulk API 2.0 ingest jobs wait before they are processed (count is what is left of them); null: none. */
  holdJobs: holdJobsSchema.nullable(),
  /** The next N transactions (of an object) publish no change event (count is what is left of them); null: none. */
  dropChangeEvents: dropChangeEventsSchema.nullable(),
  /**
   * Every login is refused, as when the integration user is deactivated: token requests answer 400
   * invalid_grant "inactive user", SOAP login INVALID_LOGIN. Sessions issued before stay valid until
   * they expire (POST /faults/expire-sessions ends them now): then nothing can renew them.
   */
  refuseLogins: z.boolean(),
}).strict();

export type FaultSettings = z.infer<typeof faultSettingsSchema>;
/** What PUT /faults and admin.setFaults take: any subset of the settings. */
export type FaultSettingsInput = Partial<z.input<typeof faultSettingsSchema>>;

const NONE: FaultSettings = { latencyMs: 0, http500Ratio: 0, http503Ratio: 0, lockRowRatio: 0, failNext: null, holdNext: null, holdJobs: null, dropChangeEvents: null, refuseLogins: false };

function unknownException(message?: string): SfError {
  return new SfError('UNKNOWN_EXCEPTION', message
    ?? `An unexpected error occurred. Please include this ErrorId if you contact support: ${randomInt(1e8, 1e9)}-${randomInt(1e4, 1e5)} (${randomInt(-2e9, 2e9)})`, [], 500);
}

function serverUnavailable(message?: string): SfError {
  return new SfError('SERVER_UNAVAILABLE', message ?? 'Server temporarily unavailable. Please try again later.', [], 503);
}

/**
 * What a server answers a request it gave up waiting for (Node's requestTimeout): 408 with no body;
 * the connection is closed.
 */
export class RequestTimeoutAnswer extends SfError {
  constructor() {
    super('REQUEST_TIMEOUT', 'Request Timeout', [], 408);
  }
}

/** A path pattern of failNext (`*`: one segment) as a regular expression. */
function pathPattern(glob: string): RegExp {
  const escaped = glob.replace(/\/+$/, '').split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]+');
  return new RegExp(`^${escaped}/?$`);
}

/** True when a call is of the fault's API, method and path (each when given). */
function callMatches(f: { api?: string; method?: string; path?: string }, call: FaultedCall | undefined): boolean {
  if (f.api && f.api !== call?.api) return false;
  if (f.method && f.method !== call?.method?.toUpperCase()) return false;
  return !f.path || (call?.path !== undefined && pathPattern(f.path).test(call.path));
}

/** A data API call as the faults see it. */
export interface FaultedCall {
  api: ApiName | undefined;
  method?: string;
  /** The path after /services/data/vXX.X. */
  path?: string;
}

function lockedRow(id: string | undefined, message?: string): SfError {
  return new SfError('UNABLE_TO_LOCK_ROW', message ?? `unable to obtain exclusive access to this record or 1 records: ${id ?? ''}`.trim(), []);
}

/** Faults injected on demand (admin API): latency, 5xx answers, locked rows, the next N calls failing. */
export class Faults {
  private settings: FaultSettings = { ...NONE };
  /** Calls whose record writes all fail (a record-level failNext took them), with the error. */
  private failingCalls = new WeakMap<WriteCall, { errorCode: string; message: string | undefined }>();

  get(): FaultSettings {
    const { failNext, holdNext, holdJobs, dropChangeEvents } = this.settings;
    return {
      ...this.settings, failNext: failNext && { ...failNext }, holdNext: holdNext && { ...holdNext }, holdJobs: holdJobs && { ...holdJobs },
      dropChangeEvents: dropChangeEvents && { ...dropChangeEvents },
    };
  }

  /** Merges a partial setting (failNext replaces the one pending); throws with the name of a bad field. */
  set(partial: unknown): FaultSettings {
    const parsed = faultSettingsSchema.partial().safeParse(partial);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new SfError('INVALID_FIELD', `faults.${issue.path.join('.') || '(body)'}: ${issue.message}`, [], 400);
    }
    this.settings = { ...this.settings, ...parsed.data };
    return this.get();
  }

  clear(): FaultSettings {
    this.settings = { ...NONE };
    this.failingCalls = new WeakMap();
    return this.get();
  }

  /** True while every login is refused (refuseLogins). */
  refusesLogins(): boolean {
    return this.settings.refuseLogins;
  }

  async delay(): Promise<void> {
    if (this.settings.latencyMs > 0) await new Promise((r) => setTimeout(r, this.settings.latencyMs));
  }

  /** Takes one of the pending failNext calls when it is of this kind, API, method and path. */
  private takeFailNext(kind: 'call' | 'records', call: FaultedCall | undefined): FailNext | undefined {
    const f = this.settings.failNext;
    if (!f || (f.status !== undefined) !== (kind === 'call') || !callMatches(f, call)) return undefined;
    this.settings.failNext = f.count > 1 ? { ...f, count: f.count - 1 } : null;
    return f;
  }

  /** Holds back the answer of a handled data API call while a holdNext takes it. */
  async holdAnswer(call: FaultedCall): Promise<void> {
    const h = this.settings.holdNext;
    if (!h || !callMatches(h, call)) return;
    this.settings.holdNext = h.count > 1 ? { ...h, count: h.count - 1 } : null;
    await new Promise((r) => setTimeout(r, h.ms));
  }

  /** How long a Bulk API 2.0 ingest job just closed waits before it is processed: a holdJobs takes it, else 0. */
  readonly jobHold = (): number => {
    const h = this.settings.holdJobs;
    if (!h) return 0;
    this.settings.holdJobs = h.count > 1 ? { ...h, count: h.count - 1 } : null;
    return h.ms;
  };

  /** A 500 or 503 (or failNext's status) to answer instead of a data API call. */
  httpError(call: FaultedCall): SfError | undefined {
    const next = this.takeFailNext('call', call);
    if (next) {
      if (next.status === 408 && next.errorCode === undefined) return new RequestTimeoutAnswer();
      const code = next.errorCode ?? (next.status === 500 ? 'UNKNOWN_EXCEPTION' : 'SERVER_UNAVAILABLE');
      if (next.status === 500 && code === 'UNKNOWN_EXCEPTION') return unknownException(next.message);
      if (next.status === 503 && code === 'SERVER_UNAVAILABLE') return serverUnavailable(next.message);
      return new SfError(code, next.message ?? code, [], next.status);
    }
    const { http500Ratio, http503Ratio } = this.settings;
    if (http500Ratio > 0 && Math.random() < http500Ratio) return unknownException();
    if (http503Ratio > 0 && Math.random() < http503Ratio) return serverUnavailable();
    return undefined;
  }

  /**
   * What of a committed transaction goes out as change events: all of it, or, while dropChangeEvents
   * is pending and the transaction changes its object, the rest (one of the count is taken).
   */
  publishable(tx: CommittedTransaction): CommittedTransaction {
    const drop = this.settings.dropChangeEvents;
    if (!drop) return tx;
    const dropped = (c: CommittedTransaction['changes'][number]) => drop.object === undefined || c.entityName === drop.object;
    if (!tx.changes.some(dropped)) return tx;
    this.settings.dropChangeEvents = drop.count > 1 ? { ...drop, count: drop.count - 1 } : null;
    return { ...tx, changes: tx.changes.filter((c) => !dropped(c)) };
  }

  /**
   * The store's write hook, before each record an API call writes: refuses it when a record-level
   * failNext took the call (the call's first write takes one), or with UNABLE_TO_LOCK_ROW by ratio.
   */
  readonly recordWrite = (_object: string, id: string | undefined, call: WriteCall): void => {
    let failure = this.failingCalls.get(call);
    if (!failure) {
      const next = this.takeFailNext('records', { api: call.api, method: call.method, path: call.path });
      if (next) this.failingCalls.set(call, (failure = { errorCode: next.errorCode!, message: next.message }));
    }
    if (failure) {
      throw failure.errorCode === 'UNABLE_TO_LOCK_ROW' ? lockedRow(id, failure.message) : new SfError(failure.errorCode, failure.message ?? failure.errorCode, []);
    }
    const r = this.settings.lockRowRatio;
    if (r > 0 && Math.random() < r) throw lockedRow(id);
  };
}
