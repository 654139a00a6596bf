import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FAULTS, SHORT_FAULTS } from '../../chaos/faults/index.ts';
import { runChaos } from '../../chaos/lib/chaos.ts';
import { chaosTable } from '../../chaos/lib/report.ts';

// The chaos suite, short (the full one is `npm run chaos`, see docs/chaos.md): mixed traffic on every
// flow while `run` is killed with SIGKILL, the org answers 5xx bursts, then refuses rows as locked;
// once it settled, every change is on the other side exactly once and every stock key holds the sum
// of both sides' deltas.
describe('chaos, short: kill -9, 5xx bursts, locked rows under mixed traffic on every flow', () => {
  test('nothing lost, nothing doubled, stock equal to the sum of the deltas, each dead letter with its reason', async (ctx) => {
    const faults = SHORT_FAULTS.map((name) => ({ ...FAULTS.find((f) => f.name === name)!, holdMs: 8_000 }));
    const result = await runChaos({ faults, ratePerSecond: 3, warmMs: 4_000, settleMs: 120_000, stockWindowMs: 2_000, log: (m) => ctx.diagnostic(m) });
    ctx.diagnostic(`\n${chaosTable(result)}`);
    assert.ok(result.changes > 0 && result.phases.every((p) => p.inFlight > 0), 'the traffic went on during every fault');
    for (const p of result.phases) {
      assert.notEqual(p.recoveryMs, undefined, `${p.fault}: the pipeline recovered`);
      assert.deepEqual(p.crashes, [], `${p.fault}: \`run\` never exited by itself`);
      assert.deepEqual({ lost: p.count.lost, doubled: p.count.doubled, stockOff: p.count.stockOff }, { lost: {}, doubled: {}, stockOff: [] }, `${p.fault}: every change on the other side once`);
    }
    assert.equal(result.deadLettersWithoutReason, 0, 'every dead letter says why');
  });
});
