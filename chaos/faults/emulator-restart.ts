import type { Fault } from './fault.ts';

/** The Salesforce emulator stopped and started again (same ports, same data), as an org's maintenance. */
export const emulatorRestart: Fault = {
  name: 'emulator-restart',
  description: 'the org emulator down for 8 s, then up again with its data',
  holdMs: 12_000,
  async inject(w) { await w.t.sb.admin.restart(8_000); },
  async heal() {},
};
