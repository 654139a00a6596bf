/**
 * A graceful stop lets each sink finish the commands already on its topic (a stock window flushed by the
 * reconciler's last punctuation, say) before it leaves: it waits until the sink's group has committed the
 * topic's end offsets as they were when the stop began, while the group keeps making progress.
 */
import type { Admin } from 'kafkajs';
import { fetchTopicOffsetsSettled } from '../kafka/topics.ts';
import type { Logger } from '../observability/logger.ts';

export interface DrainTarget { groupId: string; topic: string }

export async function drain(admin: Admin, target: DrainTarget, log: Logger, opts = { idleMs: 5_000, maxMs: 60_000 }): Promise<void> {
  const ends = new Map((await fetchTopicOffsetsSettled(admin, target.topic)).map((o) => [o.partition, BigInt(o.high)]));
  const started = Date.now();
  let lastBehind = -1n;
  let lastProgress = Date.now();
  for (;;) {
    const committed = await admin.fetchOffsets({ groupId: target.groupId, topics: [target.topic] });
    let behind = 0n;
    for (const { partition, offset } of committed[0]?.partitions ?? []) {
      const end = ends.get(partition) ?? 0n;
      const at = BigInt(offset) < 0n ? 0n : BigInt(offset);
      if (at < end) behind += end - at;
    }
    if (behind === 0n) return;
    if (behind !== lastBehind) { lastBehind = behind; lastProgress = Date.now(); }
    if (Date.now() - lastProgress > opts.idleMs || Date.now() - started > opts.maxMs) {
      log.info({ group: target.groupId, topic: target.topic, behind: Number(behind) }, 'stopping with commands still on the topic (parked or slow): the next start writes them');
      return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
