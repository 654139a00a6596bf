import type { StackComponent } from '../../src/stack/component.ts';
import type { Fault } from './fault.ts';

/** A component of the local stack stopped, then started again after the hold (the same data). */
export function restartOf(component: StackComponent, holdMs: number): Fault {
  return {
    name: `${component.name}-restart`,
    description: `${component.name} stopped for the hold, then started again`,
    holdMs,
    async inject(w) { await component.stop(w.stackCtx); },
    async heal(w) { await component.start(w.stackCtx); },
  };
}

