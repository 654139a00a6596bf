/**
 * `npm run chaos [-- fault ...]`: the chaos suite (chaos/faults/index.ts) against the local stack,
 * every fault in turn, then the table in chaos/results.md and chaos/results.json. Names choose faults
 * (a partial run writes chaos/results-partial.*). Exits 1 when a record was lost or doubled, a stock
 * key is off, a phase did not recover, `run` crashed, or a dead letter has no reason.
 *
 * Env: CHAOS_RATE (changes/s, default 4), CHAOS_WARM_MS (default 10000), CHAOS_SETTLE_MS (default 180000).
 */
import { writeFileSync } from 'node:fs';
import { FAULTS } from './faults/index.ts';
import { runChaos } from './lib/chaos.ts';
import { chaosMarkdown, chaosTable } from './lib/report.ts';

const wanted = process.argv.slice(2);
const faults = wanted.length ? FAULTS.filter((f) => wanted.includes(f.name)) : FAULTS;
if (faults.length === 0 || faults.length < wanted.length) {
  console.error(`unknown fault in ${wanted.join(' ')}; the faults: ${FAULTS.map((f) => f.name).join(', ')}`);
  process.exit(2);
}
const log = (msg: string) => process.stderr.write(`[chaos ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
const result = await runChaos({
  faults,
  ratePerSecond: Number(process.env.CHAOS_RATE ?? 4),
  warmMs: Number(process.env.CHAOS_WARM_MS ?? 10_000),
  settleMs: Number(process.env.CHAOS_SETTLE_MS ?? 180_000),
  stockWindowMs: 2_000,
  log,
});
const base = wanted.length ? 'chaos/results-partial' : 'chaos/results';
writeFileSync(`${base}.md`, chaosMarkdown(result));
writeFileSync(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`);
console.log(chaosTable(result));
console.log(`\nwritten to ${base}.md and ${base}.json`);
const bad = result.phases.filter((p) => p.lost || p.doubled || p.count.stockOff.length || p.recoveryMs === undefined || p.crashes.length);
if (bad.length || result.deadLettersWithoutReason) process.exitCode = 1;
