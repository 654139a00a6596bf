import { z } from 'zod';
import { SfError } from '../store/errors.ts';

/**
 * How long a real org takes to answer, so that benchmarks against the emulator measure what a real
 * deployment meets rather than a local loopback. A data API call takes `baseMs` plus `perRecordMs` for
 * each record it writes or returns, give or take `jitterRatio`; a call that runs `longRequestMs` or more
 * is a long-running request, and a production org serves at most `maxLongRequests` of those at once:
 * one more is refused with REQUEST_LIMIT_EXCEEDED (Salesforce's "Concurrent API Request Limits": 25 for
 * production orgs and sandboxes, requests of 20 seconds or longer).
 *
 * A Bulk API 2.0 ingest job is asynchronous: its calls (create, upload, close, polls, results) are data
 * API calls as above, and once its upload is closed the org takes `bulkJobBaseMs` (the job waits in the
 * org's queue, UploadComplete) plus `bulkPerRecordMs` for each of its records (InProgress; the rows of an
 * internal batch land when its share of that time ends), give or take `bulkJitterRatio`. Jobs are
 * processed side by side, as the org processes batches in parallel.
 */
export const latencyModelSchema = z.object({
  baseMs: z.number().min(0).max(60_000),
  perRecordMs: z.number().min(0).max(10_000),
  jitterRatio: z.number().min(0).max(1),
  longRequestMs: z.number().int().min(1).max(600_000),
  maxLongRequests: z.number().int().min(1).max(10_000),
  bulkJobBaseMs: z.number().min(0).max(600_000),
  bulkPerRecordMs: z.number().min(0).max(1_000),
  bulkJitterRatio: z.number().min(0).max(1),
}).strict();

export type LatencyModel = z.infer<typeof latencyModelSchema>;

/** Answers at loopback speed: the emulator's default, for tests. */
export const NO_LATENCY: LatencyModel = {
  baseMs: 0, perRecordMs: 0, jitterRatio: 0, longRequestMs: 20_000, maxLongRequests: 25, bulkJobBaseMs: 0, bulkPerRecordMs: 0, bulkJitterRatio: 0,
};

/**
 * A real production org, fitted to the figure quoted in docs/benchmarks.md: 350 records/s through sObject
 * Collections of 200 with 10 calls in flight, i.e. about 5.7 s per call of 200 records (150 ms of call
 * overhead and 27.75 ms per record); ±20 % jitter; Salesforce's concurrency limit of 25 long requests.
 *
 * Bulk API 2.0 is fitted to the same connector's published ~1,066 records/s, taken as one upsert job of
 * 10,000 records (one internal batch) at a time, end to end: 9.38 s a job. Its own calls come to about
 * 1.4 s (create, upload, close, the status check that sees it done and reading the results, 177.75 ms
 * each, and half of a 1 s poll interval on average), which leaves 8 s from close to JobComplete: 1 s in
 * the queue and 0.7 ms per record (7 s for 10,000; 1,065 records/s end to end); ±20 % jitter.
 */
export const REAL_ORG_LATENCY: LatencyModel = {
  baseMs: 150, perRecordMs: 27.75, jitterRatio: 0.2, longRequestMs: 20_000, maxLongRequests: 25,
  bulkJobBaseMs: 1_000, bulkPerRecordMs: 0.7, bulkJitterRatio: 0.2,
};

export const LATENCY_PRESETS = { none: NO_LATENCY, 'real-org': REAL_ORG_LATENCY } as const;
export type LatencyPreset = keyof typeof LATENCY_PRESETS;

/** How long one Bulk API 2.0 ingest job waits in the queue, and takes per record once in progress. */
export interface BulkJobTiming {
  queueMs: number;
  perRecordMs: number;
}

/** The emulator's latency: the model in force, and the long requests now running. */
export class Latency {
  private model: LatencyModel;
  private longRunning = 0;
  private refused = 0;
  private inFlight = 0;
  private peakInFlight = 0;

  constructor(initial: LatencyModel = NO_LATENCY) {
    this.model = { ...initial };
  }

  /** The model, with the long requests running and refused, and the most calls served at once (since the model was set). */
  get(): LatencyModel & { longRunning: number; refusedLongRequests: number; peakCallsInFlight: number } {
    return { ...this.model, longRunning: this.longRunning, refusedLongRequests: this.refused, peakCallsInFlight: this.peakInFlight };
  }

  /** Merges a partial model (or takes a preset by name); throws naming a bad field. */
  set(input: unknown): LatencyModel {
    if (typeof input === 'string' || (typeof input === 'object' && input !== null && 'preset' in input)) {
      const name = typeof input === 'string' ? input : String((input as { preset: unknown }).preset);
      const preset = LATENCY_PRESETS[name as LatencyPreset];
      if (!preset) throw new SfError('INVALID_FIELD', `latency.preset: must be one of ${Object.keys(LATENCY_PRESETS).join(', ')}, got "${name}"`, [], 400);
      this.model = { ...preset };
      this.peakInFlight = this.inFlight;
      return { ...this.model };
    }
    const parsed = latencyModelSchema.partial().safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new SfError('INVALID_FIELD', `latency.${issue.path.join('.') || '(body)'}: ${issue.message}`, [], 400);
    }
    this.model = { ...this.model, ...parsed.data };
    this.peakInFlight = this.inFlight;
    return { ...this.model };
  }

  /** How long a call with this many records takes under the model (jitter drawn). */
  durationMs(records: number): number {
    const { baseMs, perRecordMs, jitterRatio } = this.model;
    const nominal = baseMs + perRecordMs * Math.max(records, 0);
    return Math.max(0, nominal * (1 + jitterRatio * (2 * Math.random() - 1)));
  }

  /**
   * How long a closed Bulk API 2.0 ingest job takes under the model (one jitter draw for the job):
   * `queueMs` before it starts (UploadComplete), then `perRecordMs` a record (InProgress).
   */
  bulkJob(): BulkJobTiming {
    const { bulkJobBaseMs, bulkPerRecordMs, bulkJitterRatio } = this.model;
    const factor = Math.max(0, 1 + bulkJitterRatio * (2 * Math.random() - 1));
    return { queueMs: bulkJobBaseMs * factor, perRecordMs: bulkPerRecordMs * factor };
  }

  /**
   * Waits as long as the call takes. A long one takes one of the org's long-request slots for its
   * duration, or is refused when all are taken.
   */
  async serve(records: number): Promise<void> {
    const ms = this.durationMs(records);
    if (ms <= 0) return;
    const long = ms >= this.model.longRequestMs;
    if (long && this.longRunning >= this.model.maxLongRequests) {
      this.refused++;
      throw new SfError('REQUEST_LIMIT_EXCEEDED', `ConcurrentPerOrgLongTxn Limit exceeded: ${this.model.maxLongRequests} long-running requests are in progress`, [], 403);
    }
    if (long) this.longRunning++;
    this.peakInFlight = Math.max(this.peakInFlight, ++this.inFlight);
    try {
      await new Promise((r) => setTimeout(r, ms));
    } finally {
      this.inFlight--;
      if (long) this.longRunning--;
    }
  }
}

/**
 * The records a data API request writes or reads, as the latency model counts them: the records of a
 * Collections call, the subrequests of a Composite call, else one.
 */
export function recordsOfRequest(body: unknown): number {
  if (body && typeof body === 'object') {
    const b = body as { records?: unknown; compositeRequest?: unknown; batchRequests?: unknown };
    if (Array.isArray(b.records)) return b.records.length;
    if (Array.isArray(b.compositeRequest)) return b.compositeRequest.length;
    if (Array.isArray(b.batchRequests)) return b.batchRequests.length;
  }
  return 1;
}
