import type { Connection } from 'jsforce';
import type { Logger } from '../../observability/logger.ts';
import type { QuotaMode, QuotaState } from './types.ts';

export interface QuotaOptions {
  reservePercent: number;
  throttleMaxDelayMs: number;
  probeIntervalMs: number;
}

/**
 * Follows the daily API quota from `conn.limitInfo.apiUsage` (jsforce parses Sforce-Limit-Info).
 * Under the reserve it asks for a delay before each flush, growing as the quota runs out; after
 * REQUEST_LIMIT_EXCEEDED it holds every call until the probe time.
 */
export class QuotaGuard {
  private used?: number;
  private limit?: number;
  private exhaustedUntil = 0;
  private warned = false;
  private waiting = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  private closed = false;
  private heldUntil = 0;

  constructor(private readonly conn: Connection, private readonly opts: QuotaOptions, private readonly log: Logger) {}

  /** Reads the usage of the last response; a successful call also ends the exhausted state. */
  observe(success: boolean): void {
    const usage = (this.conn.limitInfo as { apiUsage?: { used: number; limit: number } } | undefined)?.apiUsage;
    if (usage && usage.limit > 0) {
      this.used = usage.used;
      this.limit = usage.limit;
    }
    if (success && this.exhaustedUntil) {
      this.exhaustedUntil = 0;
      this.log.info(this.logFields(), 'Salesforce API calls accepted again');
    }
    const mode = this.mode();
    if (mode === 'throttled' && !this.warned) {
      this.warned = true;
      this.log.warn(this.logFields(), 'Salesforce daily API quota under the reserve: slowing down the sink');
    } else if (mode === 'normal' && this.warned) {
      this.warned = false;
      this.log.info(this.logFields(), 'Salesforce daily API quota back above the reserve');
    }
  }

  /** REQUEST_LIMIT_EXCEEDED: no call before the probe time. */
  exhausted(): void {
    const first = !this.exhaustedUntil;
    this.exhaustedUntil = Date.now() + this.opts.probeIntervalMs;
    if (first) this.log.warn({ ...this.logFields(), probeInMs: this.opts.probeIntervalMs }, 'Salesforce API quota exhausted (REQUEST_LIMIT_EXCEEDED): calls held until the probe');
  }

  private remainingPercent(): number | undefined {
    if (this.used === undefined || !this.limit) return undefined;
    return Math.max(0, ((this.limit - this.used) / this.limit) * 100);
  }

  private mode(): QuotaMode {
    if (this.exhaustedUntil) return 'exhausted';
    const rem = this.remainingPercent();
    return rem !== undefined && rem < this.opts.reservePercent ? 'throttled' : 'normal';
  }

  /** Delay before a flush: 0 above the reserve, up to throttleMaxDelayMs at 0% remaining. */
  throttleDelayMs(): number {
    const rem = this.remainingPercent();
    const reserve = this.opts.reservePercent;
    if (rem === undefined || reserve <= 0 || rem >= reserve) return 0;
    return Math.max(50, Math.round(this.opts.throttleMaxDelayMs * ((reserve - rem) / reserve)));
  }

  state(): QuotaState {
    const rem = this.remainingPercent();
    return {
      mode: this.mode(),
      ...(this.used !== undefined ? { used: this.used, limit: this.limit } : {}),
      ...(rem !== undefined ? { remainingPercent: Math.round(rem * 100) / 100 } : {}),
      delayMs: this.throttleDelayMs(),
      ...(this.exhaustedUntil ? { nextProbeAt: this.exhaustedUntil } : {}),
      ...(this.heldUntil ? { heldUntil: this.heldUntil } : {}),
    };
  }

  /** Waits until calls are allowed (exhausted: until the probe time). */
  async gate(): Promise<void> {
    while (!this.closed && this.exhaustedUntil && Date.now() < this.exhaustedUntil) {
      await this.sleep(this.exhaustedUntil - Date.now());
    }
  }

  /** Waits the throttle delay (before a flush). */
  async throttle(): Promise<void> {
    const ms = this.throttleDelayMs();
    if (ms <= 0) return;
    this.heldUntil = Date.now() + ms;
    try {
      await this.sleep(ms);
    } finally {
      this.heldUntil = 0;
    }
  }

  sleep(ms: number): Promise<void> {
    if (this.closed || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const w = { timer: setTimeout(() => { this.waiting.delete(w); resolve(); }, ms), resolve };
      this.waiting.add(w);
    });
  }

  /** Ends the current waits (throttle, backoff) without closing: the sink is shutting down. */
  wake(): void {
    for (const w of this.waiting) { clearTimeout(w.timer); w.resolve(); }
    this.waiting.clear();
  }

  /** Ends every wait (close). */
  close(): void {
    this.closed = true;
    for (const w of this.waiting) { clearTimeout(w.timer); w.resolve(); }
    this.waiting.clear();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private logFields(): Record<string, unknown> {
    return { used: this.used, limit: this.limit, remainingPercent: this.remainingPercent(), reservePercent: this.opts.reservePercent };
  }
}
