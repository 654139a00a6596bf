import { randomInt } from 'node:crypto';
import { z } from 'zod';
import { SfError } from '../store/errors.ts';

const ratio = z.number().min(0).max(1);

export const faultSettingsSchema = z.object({
  /** Added to every API answer (REST, Bulk, OAuth, SOAP). */
  latencyMs: z.number().int().min(0).max(120_000),
  /** Share of data API calls answered 500 UNKNOWN_EXCEPTION. */
  http500Ratio: ratio,
  /** Share of data API calls answered 503 SERVER_UNAVAILABLE. */
  http503Ratio: ratio,
  /** Share of record writes refused with UNABLE_TO_LOCK_ROW. */
  lockRowRatio: ratio,
}).strict();

export type FaultSettings = z.infer<typeof faultSettingsSchema>;

const NONE: FaultSettings = { latencyMs: 0, http500Ratio: 0, http503Ratio: 0, lockRowRatio: 0 };

/** Faults injected on demand (admin API): latency, 5xx answers, locked rows. */
export class Faults {
  private settings: FaultSettings = { ...NONE };

  get(): FaultSettings { return { ...this.settings }; }

  /** Merges a partial setting; throws with the name of a bad field. */
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
    return this.get();
  }

  async delay(): Promise<void> {
    if (this.settings.latencyMs > 0) await new Promise((r) => setTimeout(r, this.settings.latencyMs));
  }

  /** A 500 or 503 to answer instead of the call, by the configured ratios. */
  httpError(): SfError | undefined {
    const { http500Ratio, http503Ratio } = this.settings;
    if (http500Ratio > 0 && Math.random() < http500Ratio) {
      return new SfError('UNKNOWN_EXCEPTION',
        `An unexpected error occurred. Please include this ErrorId if you contact support: ${randomInt(1e8, 1e9)}-${randomInt(1e4, 1e5)} (${randomInt(-2e9, 2e9)})`, [], 500);
    }
    if (http503Ratio > 0 && Math.random() < http503Ratio) {
      return new SfError('SERVER_UNAVAILABLE', 'Server temporarily unavailable. Please try again later.', [], 503);
    }
    return undefined;
  }

  /** The store's write hook: refuses a record write with UNABLE_TO_LOCK_ROW by ratio. */
  readonly lockRow = (_object: string, id: string | undefined): void => {
    const r = this.settings.lockRowRatio;
    if (r > 0 && Math.random() < r) {
      throw new SfError('UNABLE_TO_LOCK_ROW', `unable to obtain exclusive access to this record or 1 records: ${id ?? ''}`.trim(), []);
    }
  };
}
