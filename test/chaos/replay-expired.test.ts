import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { replayExpired } from '../../chaos/faults/replay-expired.ts';
import { assertEveryChangeOnce, runOnePhase } from '../support/chaos-phase.ts';

// `run` down while the shop sells and the org restocks, and every change event of the org out of the
// retention window by the time it is back: the org's restocks are only known from the re-read of the
// records changed since the checkpoint. Shop sales waiting in Kafka must not be written to the org (an
// absolute quantity) before that re-read has seen the org's restocked quantities.
describe('chaos: run back on an expired replay id under mixed traffic', () => {
  test('no org restock lost: every stock key equal to the sum of both sides\' deltas, nothing lost or doubled', async (ctx) => {
    const phase = await runOnePhase(replayExpired, ctx);
    assert.deepEqual(phase.deadLetters, {}, 'nothing dead-lettered');
    assertEveryChangeOnce(phase);
  });
});
