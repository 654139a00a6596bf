import type { Fault } from './fault.ts';

/** SIGKILL of the `shopforce run` process in the middle of the traffic; started again after the hold. */
export const killRun: Fault = {
  name: 'kill-run',
  description: 'SIGKILL of the `shopforce run` process, started again after the hold',
  holdMs: 10_000,
  async inject(w) { await w.pipeline.kill('SIGKILL'); },
  async heal(w) { await w.pipeline.restart(); },
};
