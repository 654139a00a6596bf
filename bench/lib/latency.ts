/** Latency figures of a benchmark: nearest-rank percentiles of a list of milliseconds. */

export interface LatencySummary { n: number; p50: number; p95: number; p99: number; max: number }

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export function latencySummary(values: number[]): LatencySummary {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99), max: s.at(-1) ?? NaN };
}

/** Polls `probe` until `done` holds or the timeout passes; says which. */
export async function pollUntil<T>(probe: () => Promise<T>, done: (v: T) => boolean, timeoutMs: number, everyMs = 250): Promise<{ value: T; ok: boolean }> {
  const deadline = Date.now() + timeoutMs;
  let value = await probe();
  while (!done(value)) {
    if (Date.now() > deadline) return { value, ok: false };
    await new Promise((r) => setTimeout(r, everyMs));
    value = await probe();
  }
  return { value, ok: true };
}

/** Runs `write(i)` for i < count at `ratePerSecond`; resolves to each write's commit time (what `write` returned). */
export async function paced(count: number, ratePerSecond: number, write: (i: number) => Promise<number>): Promise<number[]> {
  const started = Date.now();
  const commits: number[] = [];
  for (let i = 0; i < count; i++) {
    const due = started + (i * 1000) / ratePerSecond;
    if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
    commits.push(await write(i));
  }
  return commits;
}
