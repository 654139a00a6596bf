import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { postgresRestart } from '../../chaos/faults/postgres-restart.ts';
import { assertEveryChangeOnce, runOnePhase } from '../support/chaos-phase.ts';

// The shop database restarted while every flow's traffic goes on, stock sold in the shop and restocked
// in the org: the router (which asks the shop database whether a change was our own write) and the
// shop sink meet it down. They wait for it; nothing is dead-lettered, and our own stock writes coming
// back are still known as ours, so no delta is applied twice.
describe('chaos: a PostgreSQL restart under mixed traffic', () => {
  test('nothing lost, nothing doubled, no dead letter, every stock key equal to the sum of both sides\' deltas', async (ctx) => {
    const phase = await runOnePhase(postgresRestart, ctx);
    assert.deepEqual(phase.crashes, [], '`run` never exited by itself');
    assert.deepEqual(phase.deadLetters, {}, 'an outage of the shop database dead-letters nothing');
    assertEveryChangeOnce(phase);
  });
});
