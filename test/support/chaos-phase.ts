import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { Fault } from '../../chaos/faults/fault.ts';
import { runChaos, type PhaseResult } from '../../chaos/lib/chaos.ts';
import { chaosTable } from '../../chaos/lib/report.ts';

/** Runs one chaos fault alone under mixed traffic (4 changes/s, 2 s stock windows), prints its table, and checks it recovered. */
export async function runOnePhase(fault: Fault, ctx: TestContext): Promise<PhaseResult> {
  const result = await runChaos({ faults: [fault], ratePerSecond: 4, warmMs: 8_000, settleMs: 120_000, stockWindowMs: 2_000, log: (m) => ctx.diagnostic(m) });
  ctx.diagnostic(`\n${chaosTable(result)}`);
  const [phase] = result.phases;
  assert.ok(phase && phase.inFlight > 0, 'the traffic went on during the fault');
  assert.notEqual(phase.recoveryMs, undefined, 'the pipeline recovered');
  return phase;
}

/** Every change on the other side once, and each stock key on both sides equal to the sum of both sides' deltas. */
export function assertEveryChangeOnce(phase: PhaseResult): void {
  assert.deepEqual({ lost: phase.count.lost, doubled: phase.count.doubled, stockOff: phase.count.stockOff }, { lost: {}, doubled: {}, stockOff: [] }, 'every change on the other side once');
}
