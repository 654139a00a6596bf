import type { World } from '../lib/world.ts';

/** One fault a chaos phase injects while the traffic goes on, and how it is healed. */
export interface Fault {
  /** Its name on the command line and in the table. */
  name: string;
  /** What it does, for the results page. */
  description: string;
  /** How long it stays on while the traffic goes on (ms). */
  holdMs: number;
  inject(w: World): Promise<void>;
  /** Called every few seconds while the fault is on (a fault repeated: sessions expired again, streams reset again). */
  during?(w: World): Promise<void>;
  heal(w: World): Promise<void>;
}

/** Several faults at once: injected in order, healed in reverse. */
export function together(name: string, faults: Fault[]): Fault {
  return {
    name,
    description: `at once: ${faults.map((f) => f.name).join(' + ')}`,
    holdMs: Math.max(...faults.map((f) => f.holdMs)),
    async inject(w) { for (const f of faults) await f.inject(w); },
    async during(w) { for (const f of faults) await f.during?.(w); },
    async heal(w) { for (const f of [...faults].reverse()) await f.heal(w); },
  };
}

/** A fault that is one act, repeated every few seconds while it is on; nothing to heal. */
export function repeated(name: string, description: string, holdMs: number, act: (w: World) => unknown): Fault {
  return {
    name, description, holdMs,
    async inject(w) { await act(w); },
    async during(w) { await act(w); },
    async heal() {},
  };
}
