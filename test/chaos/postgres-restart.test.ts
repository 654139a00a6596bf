import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { postgresRestart } from '../../chaos/faults/postgres-restart.ts';
import { runChaos } from '../../chaos/lib/chaos.ts';
import { chaosTable } from '../../chaos/lib/report.ts';

// The shop database restarted while every flow's traffic goes on, stock sold in the shop and restocked
// in the org: the router (which asks the shop database whether a change was our own write) and the
// shop sink meet it down. They wait for it; nothing is dead-lettered, and our own stock writes coming
// back are still known as ours, so no delta is applied twice.
describe('chaos: a PostgreSQL restart under mixed traffic', () => {
  test('nothing lost, nothing doubled, no dead letter, every stock key equal to the sum of both sides\' deltas', async (ctx) => {
    const result = await runChaos({ faults: [postgresRestart], ratePerSecond: 4, warmMs: 8_000, settleMs: 120_000, stockWindowMs: 2_000, log: (m) => ctx.diagnostic(m) });
    ctx.diagnostic(`\n${chaosTable(result)}`);
    const [phase] = result.phases;
    assert.ok(phase && phase.inFlight > 0, 'the traffic went on while the database was down');
    assert.notEqual(phase.recoveryMs, undefined, 'the pipeline recovered');
    assert.deepEqual(phase.crashes, [], '`run` never exited by itself');
    assert.deepEqual(phase.deadLetters, {}, 'an outage of the shop database dead-letters nothing');
    assert.deepEqual({ lost: phase.count.lost, doubled: phase.count.doubled, stockOff: phase.count.stockOff }, { lost: {}, doubled: {}, stockOff: [] }, 'every change on the other side once');
  });
});
