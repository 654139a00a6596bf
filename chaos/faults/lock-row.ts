import type { Fault } from './fault.ts';

/** UNABLE_TO_LOCK_ROW on record writes, as when an org's own automation holds the rows. */
export const lockRow: Fault = {
  name: 'lock-row',
  description: '30 % of record writes refused with UNABLE_TO_LOCK_ROW',
  holdMs: 20_000,
  async inject(w) { w.t.sb.admin.setFaults({ lockRowRatio: 0.3 }); },
  async heal(w) { w.t.sb.admin.setFaults({ lockRowRatio: 0 }); },
};
