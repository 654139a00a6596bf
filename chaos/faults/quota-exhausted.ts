import type { Fault } from './fault.ts';

/** The daily API allowance spent (403 REQUEST_LIMIT_EXCEEDED), then a new day. */
export const quotaExhausted: Fault = {
  name: 'quota-exhausted',
  description: 'the daily API allowance spent (403 REQUEST_LIMIT_EXCEEDED), restored after the hold',
  holdMs: 20_000,
  async inject(w) { w.t.sb.admin.setQuota({ exhausted: true }); },
  async heal(w) { w.t.sb.admin.setQuota({ used: 0 }); },
};
