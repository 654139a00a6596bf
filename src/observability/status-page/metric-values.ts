import type { Registry } from 'prom-client';

export interface LabelledValue {
  labels: Record<string, string>;
  value: number;
  /** A histogram's sub-series (`<name>_bucket`, `_sum`, `_count`). */
  metricName?: string;
}

/** The current values of one metric of the registry (none when it is not registered). */
export async function metricValues(registry: Registry, name: string): Promise<LabelledValue[]> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return [];
  const { values } = await metric.get();
  return values.map((v) => ({
    labels: Object.fromEntries(Object.entries(v.labels).map(([k, l]) => [k, String(l)])),
    value: v.value,
    metricName: (v as { metricName?: string }).metricName,
  }));
}

/** The sum of a metric's values, per value of one label. */
export function sumBy(values: LabelledValue[], label: string, keep: (v: LabelledValue) => boolean = () => true): Map<string, number> {
  const out = new Map<string, number>();
  for (const v of values) {
    if (!keep(v)) continue;
    const key = v.labels[label] ?? '';
    out.set(key, (out.get(key) ?? 0) + v.value);
  }
  return out;
}

/** Cumulative bucket counts of a histogram, per value of one label (or of `keyOf` its labels), in bucket order. */
export function bucketsBy(values: LabelledValue[], name: string, label: string | ((labels: Record<string, string>) => string)): Map<string, Array<{ le: number; count: number }>> {
  const out = new Map<string, Array<{ le: number; count: number }>>();
  for (const v of values) {
    if (v.metricName !== `${name}_bucket`) continue;
    const key = typeof label === 'string' ? v.labels[label] ?? '' : label(v.labels);
    const list = out.get(key) ?? [];
    list.push({ le: v.labels.le === '+Inf' ? Infinity : Number(v.labels.le), count: v.value });
    out.set(key, list);
  }
  for (const list of out.values()) list.sort((a, b) => a.le - b.le);
  return out;
}

/**
 * The q-quantile of the observations between two readings of a histogram's cumulative buckets,
 * interpolated linearly inside the bucket it falls in (as Prometheus' histogram_quantile does);
 * null when nothing was observed in between.
 */
export function quantileBetween(before: Array<{ le: number; count: number }> | undefined, after: Array<{ le: number; count: number }>, q: number): number | null {
  const delta = after.map((b, i) => ({ le: b.le, count: b.count - (before?.[i]?.count ?? 0) }));
  const n = delta.at(-1)?.count ?? 0;
  if (n <= 0) return null;
  const rank = q * n;
  let lowerLe = 0;
  let lowerCount = 0;
  for (const b of delta) {
    if (b.count >= rank) {
      if (!Number.isFinite(b.le)) return lowerLe;
      const inBucket = b.count - lowerCount;
      return inBucket > 0 ? lowerLe + (b.le - lowerLe) * ((rank - lowerCount) / inBucket) : b.le;
    }
    lowerLe = b.le;
    lowerCount = b.count;
  }
  return lowerLe;
}
