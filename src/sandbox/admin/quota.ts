import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SfError } from '../store/errors.ts';

const DAY_MS = 86_400_000;

/** The daily API request allowance (rolling 24 h window), kept in <dataDir>/quota.json. */
export class ApiQuota {
  private used = 0;
  private windowStart = Date.now();
  private readonly file: string;

  constructor(dataDir: string, public max: number) {
    this.file = join(dataDir, 'quota.json');
    if (existsSync(this.file)) {
      try {
        const saved = JSON.parse(readFileSync(this.file, 'utf8')) as { used: number; windowStart: number; max?: number };
        this.used = saved.used;
        this.windowStart = saved.windowStart;
      } catch { /* a broken file starts a fresh window */ }
    }
  }

  private roll(): void {
    if (Date.now() - this.windowStart >= DAY_MS) {
      this.windowStart = Date.now();
      this.used = 0;
    }
  }

  /** Counts one call, or throws 403 REQUEST_LIMIT_EXCEEDED when the allowance is spent. */
  take(): void {
    this.roll();
    if (this.used >= this.max) throw new SfError('REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.', [], 403);
    this.used += 1;
    if (this.used % 100 === 0) this.save(); // a crash loses at most 100 calls of usage
  }

  usage(): { used: number; max: number; remaining: number } {
    this.roll();
    return { used: this.used, max: this.max, remaining: Math.max(0, this.max - this.used) };
  }

  /** Admin: set max and/or used; exhausted=true spends the rest. */
  set(opts: { max?: number; used?: number; exhausted?: boolean }): void {
    if (opts.max !== undefined) this.max = opts.max;
    if (opts.used !== undefined) this.used = opts.used;
    if (opts.exhausted) this.used = this.max;
    this.save();
  }

  header(): string {
    const u = this.usage();
    return `api-usage=${u.used}/${u.max}`;
  }

  save(): void {
    writeFileSync(this.file, JSON.stringify({ used: this.used, windowStart: this.windowStart, max: this.max }));
  }
}
