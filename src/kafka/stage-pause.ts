import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '../observability/logger.ts';
import { classifyError, errorMessage } from './errors.ts';
import { backoffDelay } from './retry.ts';

/** Why and since when a stage is paused (readiness, the status). */
export interface PauseState {
  stage: string;
  since: string;
  reason: string;
  attempts: number;
}

export interface StagePauseOptions {
  stage: string;
  log: Logger;
  /** Called once when the stage pauses (the alert), and once when it resumes. */
  onPause?: (state: PauseState) => void;
  onResume?: (state: PauseState, pausedMs: number) => void;
  /** Where shopforce_stage_paused is registered. */
  registry?: Registry;
  /** Which errors pause the stage: by default the `infrastructure` class (see classifyError). */
  pausesOn?: (err: unknown) => boolean;
  minDelayMs?: number;
  maxDelayMs?: number;
}

/** Thrown by run() when the stage stops while it waits to try again. */
export class StageStoppedError extends Error {
  constructor(stage: string) {
    super(`${stage} stopped while paused`);
    this.name = 'StageStoppedError';
  }
}

export const isInfrastructure = (err: unknown): boolean => classifyError(err) === 'infrastructure';

/**
 * A stage's pause for errors of its environment (a revoked privilege, a dropped column, a field made
 * read-only, a session that cannot be renewed, the registry down): run() holds the failing call and
 * tries it again with backoff until it succeeds — the stage reads nothing further and commits
 * nothing past the record in hand, and the record is never dead-lettered. While it holds, the stage
 * is paused: not ready, shopforce_stage_paused{stage} = 1, and an alert went out. The first success
 * resumes it by itself.
 */
export class StagePause {
  private current: PauseState | undefined;
  private stopped = false;
  private readonly wakers = new Set<() => void>();
  private readonly gauge?: Gauge<'stage'>;

  constructor(private readonly opts: StagePauseOptions) {
    if (opts.registry) {
      this.gauge = (opts.registry.getSingleMetric('shopforce_stage_paused') as Gauge<'stage'> | undefined)
        ?? new Gauge({ name: 'shopforce_stage_paused', help: 'Whether a stage is paused (1) by an error of its environment (permissions, schema, session, a dependency down) or not (0).', labelNames: ['stage'], registers: [opts.registry] });
      this.gauge.set({ stage: opts.stage }, 0);
    }
  }

  /** The pause in force, if any. */
  state(): PauseState | undefined {
    return this.current;
  }

  /** Runs `fn`; an error that pauses the stage is held and `fn` tried again until it succeeds or the stage stops. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const pausesOn = this.opts.pausesOn ?? isInfrastructure;
    const budget = { retries: 0, minDelayMs: this.opts.minDelayMs ?? 1_000, maxDelayMs: this.opts.maxDelayMs ?? 60_000, factor: 2, jitter: true };
    for (let attempt = 1; ; attempt++) {
      if (this.stopped) throw new StageStoppedError(this.opts.stage);
      try {
        const result = await fn();
        this.resume();
        return result;
      } catch (err) {
        if (this.stopped) throw new StageStoppedError(this.opts.stage);
        if (!pausesOn(err)) throw err;
        this.pause(err, attempt);
        await this.sleep(backoffDelay(budget, attempt));
      }
    }
  }

  /** Ends every wait: run() rejects with StageStoppedError. */
  stop(): void {
    this.stopped = true;
    for (const wake of this.wakers) wake();
  }

  private pause(err: unknown, attempt: number): void {
    const reason = errorMessage(err);
    if (this.current) {
      this.current = { ...this.current, reason, attempts: this.current.attempts + 1 };
      this.opts.log.warn({ stage: this.opts.stage, reason, attempts: this.current.attempts }, 'stage still paused: trying again');
      return;
    }
    this.current = { stage: this.opts.stage, since: new Date().toISOString(), reason, attempts: attempt };
    this.gauge?.set({ stage: this.opts.stage }, 1);
    this.opts.log.error({ stage: this.opts.stage, reason }, 'stage paused: an error of its environment, not of the record; nothing is dead-lettered, it tries again with backoff');
    this.opts.onPause?.(this.current);
  }

  private resume(): void {
    const was = this.current;
    if (!was) return;
    this.current = undefined;
    this.gauge?.set({ stage: this.opts.stage }, 0);
    const pausedMs = Date.now() - Date.parse(was.since);
    this.opts.log.info({ stage: this.opts.stage, pausedMs, attempts: was.attempts }, 'stage resumed');
    this.opts.onResume?.(was, pausedMs);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakers.add(done);
    });
  }
}
