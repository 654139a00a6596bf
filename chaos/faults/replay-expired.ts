import type { Fault } from './fault.ts';

/**
 * `run` down while the org changes, and its replay ids out of the retention window by the time it
 * comes back (the org expired every event): it must re-read what changed since its checkpoint.
 */
export const replayExpired: Fault = {
  name: 'replay-expired',
  description: '`run` killed; meanwhile every change event leaves the retention window; started again on an expired replay id',
  holdMs: 12_000,
  async inject(w) { await w.pipeline.kill('SIGKILL'); },
  async heal(w) {
    w.t.sb.admin.expireEvents();
    await w.pipeline.restart();
  },
};
