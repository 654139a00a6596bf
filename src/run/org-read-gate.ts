import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../observability/logger.ts';

/**
 * Holds our writes to Salesforce objects until the source has read what the org changed in them
 * while `run` was down. A stock quantity goes to the org as an absolute value: written before the
 * re-read after an expired replay id, it would replace the org's restock, and the re-read would then
 * see our own value. Waited on once per start; `stopping` ends the wait with an error (the batch is
 * not committed and is read again on the next start).
 */
export async function untilOrgRead(objects: Iterable<string>, caughtUp: (object: string) => boolean, stopping: () => boolean, log: Logger): Promise<void> {
  const waiting = () => [...new Set(objects)].filter((o) => !caughtUp(o));
  let logged = false;
  for (let pending = waiting(); pending.length > 0; pending = waiting()) {
    if (stopping()) throw new Error('sf-sink stopping before the source read the org\'s changes');
    if (!logged) log.info({ objects: pending }, 'writes to these objects wait until the source has read the org\'s changes since its checkpoint');
    logged = true;
    await sleep(200);
  }
}
