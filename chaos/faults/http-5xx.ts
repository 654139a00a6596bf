import type { Fault } from './fault.ts';

/** Bursts of 500 UNKNOWN_EXCEPTION and 503 SERVER_UNAVAILABLE on the data APIs. */
export const http5xx: Fault = {
  name: 'http-5xx',
  description: '30 % of data API calls answered 503, 10 % 500',
  holdMs: 20_000,
  async inject(w) { w.t.sb.admin.setFaults({ http503Ratio: 0.3, http500Ratio: 0.1 }); },
  async heal(w) { w.t.sb.admin.setFaults({ http503Ratio: 0, http500Ratio: 0 }); },
};
