/**
 * The sink's calls to the org at once (sObject Collections writes and deletes, Bulk API 2.0 jobs),
 * shared by every flush in flight: at most `limit`. Salesforce serves at most `maxLongRequests` (25)
 * requests of 20 s or longer at once per org and refuses one more; shorter calls have no such limit.
 * So more than `maxLongRequests` calls run only while none of those running has taken `slowCallMs`
 * (half the 20 s): once the org slows down, no call beyond the 25 is started until calls end.
 */
export interface CallSlotsOptions {
  limit: number;
  maxLongRequests: number;
  slowCallMs: number;
}

interface Slot {
  since: number;
}

export class CallSlots {
  private readonly running = new Set<Slot>();
  private readonly waiting: Array<(slot: Slot) => void> = [];
  private readonly freeListeners: Array<() => void> = [];

  constructor(private readonly opts: CallSlotsOptions) {}

  /** Calls running now. */
  get busy(): number {
    return this.running.size;
  }

  /** Whether a call could start now. */
  canStart(now = Date.now()): boolean {
    if (this.running.size >= this.opts.limit) return false;
    if (this.running.size < this.opts.maxLongRequests) return true;
    for (const slot of this.running) if (now - slot.since >= this.opts.slowCallMs) return false;
    return true;
  }

  /** Runs `fn` in a slot, waiting for one first (in arrival order). */
  async run<T>(fn: () => PromiseLike<T>): Promise<T> {
    const slot = this.waiting.length === 0 && this.canStart() ? this.take() : await new Promise<Slot>((resolve) => { this.waiting.push(resolve); });
    try {
      return await fn();
    } finally {
      this.running.delete(slot);
      this.wake();
    }
  }

  /** Calls `cb` once, the next time a call ends. */
  whenFree(cb: () => void): void {
    this.freeListeners.push(cb);
  }

  private take(): Slot {
    const slot = { since: Date.now() };
    this.running.add(slot);
    return slot;
  }

  private wake(): void {
    while (this.waiting.length > 0 && this.canStart()) this.waiting.shift()!(this.take());
    for (const cb of this.freeListeners.splice(0)) cb();
  }
}
