/**
 * The figures a benchmark reports for bench/results.json: one line per figure on stdout,
 * `FIGURE {"name":…,"value":…,"unit":…,"goal":…,"conditions":…}`, read back by `npm run bench`
 * (scripts/bench.mjs), which keeps the latest figure of each name and regenerates the README's table.
 */
import os from 'node:os';

export interface Figure {
  /** stable, unique across benchmarks: "<bench>.<what>", e.g. "pipeline-orders.burst.orders_per_s" */
  name: string;
  value: number;
  /** "orders/s", "ms", "records/call", "MB", … */
  unit: string;
  /** what the project aims for, e.g. ">= 1000" or "<= 1000"; omitted when there is none */
  goal?: string;
  /** the conditions of the run in words: load, sizes, settings */
  conditions: string;
}

/** Prints the figure, its conditions ending with the machine's load when it was taken (other work skews it). */
export function reportFigure(f: Figure): void {
  if (!Number.isFinite(f.value)) throw new Error(`figure ${f.name}: value ${f.value} is not a number`);
  const load = `load avg ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores`;
  console.log(`FIGURE ${JSON.stringify({ ...f, conditions: `${f.conditions}; ${load}` })}`);
}
