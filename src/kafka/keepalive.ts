/**
 * Runs `work` while heartbeating the consumer group every `intervalMs`: kafkajs heartbeats only
 * between batches, so a long handler or write would otherwise outlive the session. A heartbeat
 * error (a rebalance, lost membership) is remembered: `work` sees it through `groupTrouble()` and
 * should stop after what it has in hand; the error is rethrown once `work` is done, so kafkajs
 * rejoins the group.
 */
export async function withKeepalive<R>(heartbeat: () => Promise<void>, intervalMs: number, work: (groupTrouble: () => boolean) => Promise<R>): Promise<R> {
  let groupError: unknown;
  const keepalive = setInterval(() => {
    heartbeat().catch((err: unknown) => { groupError ??= err; });
  }, intervalMs);
  let result: R;
  try {
    result = await work(() => groupError !== undefined);
  } finally {
    clearInterval(keepalive);
  }
  if (groupError !== undefined) throw groupError;
  return result;
}
