/** A drift report as a person reads it: the counts, where each kind is, and sample keys with their values. */
import type { Side } from '../reconcile/types.ts';
import type { DriftReport } from './check.ts';
import type { DriftOutputTotals } from './drift-output.ts';

const SIDE_NAME: Record<Side, string> = { SHOP: 'the shop', SALESFORCE: 'Salesforce' };

/** Columns padded to their widest cell. */
export function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
}

export function renderDriftReport(r: DriftReport, repair?: DriftOutputTotals): string {
  const other = SIDE_NAME[r.reference === 'SHOP' ? 'SALESFORCE' : 'SHOP'];
  const ref = SIDE_NAME[r.reference];
  const out: string[] = [];
  const read = (side: Record<string, number>) => Object.entries(side).map(([k, v]) => `${v} ${k}`).join(', ');
  out.push(`drift of ${r.entity} (master ${r.master.toLowerCase()}${r.master === 'BOTH' ? `; Salesforce held against the shop` : ''}), run ${r.runId} at ${r.startedAt}: ${r.seconds.toFixed(1)} s`);
  out.push(`  read: salesforce ${read(r.read.salesforce) || 'nothing'} in ${r.read.salesforceSeconds.toFixed(1)} s (${r.read.sortRuns} sorted runs on disk); shop ${read(r.read.shop) || 'nothing'} and compared in ${r.read.shopAndCompareSeconds.toFixed(1)} s${r.read.unkeyed ? `; ${r.read.unkeyed} records without a key skipped` : ''}`);
  out.push('');
  out.push(...table([
    ['', 'records', 'meaning'],
    ['shop', String(r.counts.shop), `${r.entity} records in the shop`],
    ['salesforce', String(r.counts.salesforce), `${r.entity} records in Salesforce`],
    ['same', String(r.counts.same), 'on both sides, equal'],
    ['missing', String(r.counts.missing), `in ${ref}, not in ${other}`],
    ['different', String(r.counts.different), `on both sides, ${other} differs${Object.keys(r.fields).length ? ` (${Object.entries(r.fields).map(([f, n]) => `${f} ${n}`).join(', ')})` : ''}`],
    ['extra', String(r.counts.extra), `in ${other}, not in ${ref}`],
    ...(r.counts.kept ? [['kept', String(r.counts.kept), `in ${other} only, as the delete policy keeps it`]] : []),
    ...(r.counts.unreadable ? [['unreadable', String(r.counts.unreadable), 'a side\'s records did not map (see the samples)']] : []),
  ]).map((l) => `  ${l}`));
  out.push('');
  out.push(r.drift === 0 ? `no drift: both sides agree on every ${r.entity}.` : `drift: ${r.drift} record(s) differ between the sides.`);
  if (r.samples.length > 0) {
    out.push('', 'samples:');
    const rows = [['key', 'kind', 'field', 'shop', 'salesforce']];
    for (const s of r.samples) {
      const records = (side: Side) => s.records[side].join(' ') || '-';
      if (s.kind === 'different') for (const f of s.fields) rows.push([s.key, s.kind, f, s.values[f]!.SHOP, s.values[f]!.SALESFORCE]);
      else if (s.kind === 'unreadable') rows.push([s.key, s.kind, '', s.error ?? '', '']);
      else rows.push([s.key, s.kind, '', records('SHOP'), records('SALESFORCE')]);
    }
    out.push(...table(rows).map((l) => `  ${l}`));
  }
  if (repair) {
    out.push('');
    out.push(`repair: ${repair.repaired} record(s) sent through the pipeline: ${repair.salesforceCommands} command(s) to Salesforce, ${repair.shopCommands} to the shop, ${repair.routedChanges} change(s) to the reconciler; ${repair.audited} DRIFT record(s) on sync.audit. Run drift again once the sinks have written them.`);
  }
  return `${out.join('\n')}\n`;
}
