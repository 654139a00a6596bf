/** How a pending item ended: done, refused for good (DLQ), or to be delivered again. */
export type Settled = { ok: true } | { ok: false; reason: string } | { ok: 'retry'; reason: string };

/** Marks one pending registration: a settle for an older registration of the same offset is stale. */
export type PendingToken = symbol;

/**
 * The offsets of one partition while this member owns it (from one group join to the next):
 * how far handling got, which items are still pending, what was committed. The offset to commit
 * is the lowest pending item, else the position, and never below what was committed already.
 */
export class PartitionProgress {
  /** False once the partition was revoked or the group rejoined: late settles are ignored. */
  live = true;
  /** Serializes the work on this partition: its batches, settles and re-deliveries. */
  busy: Promise<void> = Promise.resolve();
  /** A commit outside a batch is queued in `busy`. */
  lateCommitQueued = false;
  /** Next offset after the last handled chunk. */
  private position: bigint | undefined;
  private committed: bigint | undefined;
  private readonly pending = new Map<bigint, { token: PendingToken; timer: NodeJS.Timeout; drop?: () => void }>();

  constructor(readonly topic: string, readonly partition: number) {}

  /** A chunk up to `lastOffset` was handled (its items done, refused or pending). */
  handled(lastOffset: string): void {
    this.position = BigInt(lastOffset) + 1n;
  }

  /**
   * A batch of transaction markers from `firstOffset` to `lastOffset` was passed over: the
   * position moves past it when it follows what was handled. False when it was behind.
   */
  passedMarkers(firstOffset: bigint, lastOffset: bigint): boolean {
    if (this.position !== undefined && firstOffset < this.position) return false;
    this.position = lastOffset + 1n;
    return true;
  }

  /**
   * Holds the commit point at `offset` until the item settles. `settled` is raced against
   * `timeoutMs`: an item not settled by then is settled as 'retry'; a rejected `settled` too.
   * `drop` is called when the item is let go unsettled (see `close` and `rewind`).
   */
  park(offset: bigint, settled: Promise<Settled>, timeoutMs: number, onSettled: (token: PendingToken, result: Settled) => void, drop?: () => void): void {
    const token: PendingToken = Symbol(`pending ${this.topic}[${this.partition}]@${offset}`);
    let done = false;
    const finish = (result: Settled) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      onSettled(token, result);
    };
    const timer = setTimeout(() => finish({ ok: 'retry', reason: `not settled within ${timeoutMs} ms` }), timeoutMs);
    timer.unref();
    const before = this.pending.get(offset);
    if (before) clearTimeout(before.timer);
    this.pending.set(offset, { token, timer, drop });
    settled.then(finish, (err: unknown) => finish({ ok: 'retry', reason: `settling failed: ${err instanceof Error ? err.message : String(err)}` }));
  }

  /** True while `token` is the live registration of `offset`. */
  isPending(offset: bigint, token: PendingToken): boolean {
    return this.live && this.pending.get(offset)?.token === token;
  }

  /** The item settled for good: the commit point may move past it. */
  settle(offset: bigint): void {
    const p = this.pending.get(offset);
    if (p) clearTimeout(p.timer);
    this.pending.delete(offset);
  }

  /**
   * Everything from `offset` on is delivered again (the consumer seeks back there): pending items
   * from there on are forgotten, the position goes back to it.
   */
  rewind(offset: bigint): void {
    for (const [o, p] of this.pending) {
      if (o >= offset) {
        this.pending.delete(o);
        letGo(p);
      }
    }
    if (this.position === undefined || this.position > offset) this.position = offset;
  }

  /** The offset to commit now, or undefined when it would not move the committed offset forward. */
  toCommit(): bigint | undefined {
    if (this.position === undefined) return undefined;
    let target = this.position;
    for (const o of this.pending.keys()) if (o < target) target = o;
    return this.committed === undefined || target > this.committed ? target : undefined;
  }

  committedTo(offset: bigint): void {
    if (this.committed === undefined || offset > this.committed) this.committed = offset;
  }

  pendingCount(): number {
    return this.pending.size;
  }

  /**
   * The partition is no longer this member's (or the group is rejoined, or the sink stops): stop
   * tracking it. Its pending items are let go: whoever holds them is told to write them no more
   * (they are delivered again to the partition's owner).
   */
  close(): void {
    this.live = false;
    const left = [...this.pending.values()];
    this.pending.clear();
    for (const p of left) letGo(p);
  }
}

/** A pending item forgotten unsettled: its timer stops, its holder drops it. */
function letGo(p: { timer: NodeJS.Timeout; drop?: () => void }): void {
  clearTimeout(p.timer);
  p.drop?.();
}
