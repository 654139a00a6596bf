/** The pipeline's Prometheus metrics, as the whole-pipeline benchmarks read them: scraped, and compared between two scrapes. */
import type { Pipeline } from '../../src/run/pipeline.ts';

/** Prometheus text -> { 'name{labels}': value }. */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*(?:\{[^}]*\})?)\s+(\S+)$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

export async function scrape(pipeline: Pipeline): Promise<Map<string, number>> {
  return parseMetrics(await (await fetch(`${pipeline.health.url}/metrics`)).text());
}

/** after - before for the series of one metric, summed by one label. */
export function metricDelta(before: Map<string, number>, after: Map<string, number>, name: string, byLabel?: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [series, value] of after) {
    const m = /^([^{]+)(?:\{(.*)\})?$/.exec(series)!;
    if (m[1] !== name) continue;
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    const key = byLabel ? labels[byLabel] ?? '' : 'total';
    const delta = value - (before.get(series) ?? 0);
    if (delta !== 0) out[key] = (out[key] ?? 0) + delta;
  }
  return out;
}

/**
 * Percentiles of a histogram's observations between two scrapes, per value of `byLabel`, as the upper
 * bound of the bucket they fall in ("<= 0.5 s").
 */
export function histogramDelta(before: Map<string, number>, after: Map<string, number>, name: string, byLabel: string, ps: number[]): Record<string, { n: number; mean: number; le: Record<string, number> }> {
  const buckets = new Map<string, { le: number; count: number }[]>();
  for (const [series, value] of after) {
    if (!series.startsWith(`${name}_bucket{`)) continue;
    const labels = Object.fromEntries([...series.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1]!, x[2]!]));
    const key = labels[byLabel] ?? '';
    const list = buckets.get(key) ?? [];
    list.push({ le: labels.le === '+Inf' ? Infinity : Number(labels.le), count: value - (before.get(series) ?? 0) });
    buckets.set(key, list);
  }
  const sums = metricDelta(before, after, `${name}_sum`, byLabel);
  const out: Record<string, { n: number; mean: number; le: Record<string, number> }> = {};
  for (const [key, list] of buckets) {
    list.sort((a, b) => a.le - b.le);
    const n = list.at(-1)?.count ?? 0;
    if (n === 0) continue;
    const le = Object.fromEntries(ps.map((p) => [`p${p}`, list.find((b) => b.count >= (p / 100) * n)!.le]));
    out[key] = { n, mean: (sums[key] ?? 0) / n, le };
  }
  return out;
}
