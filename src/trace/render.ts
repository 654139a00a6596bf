/** A trace as a person reads it: one line per step, in time order, and where each step is in Kafka. */
import { table } from '../drift/report.ts';
import type { Trace } from './story.ts';

const SIDE = { SHOP: 'shop', SALESFORCE: 'salesforce' } as const;

export function renderTrace(t: Trace): string {
  const out = [`trace of ${t.entity} ${t.key}: ${t.rows.length} step(s)`];
  out.push(`  read ${t.read.map((r) => `${r.topic}[${r.partition}] ${r.from}..${r.to}`).join(', ') || 'nothing (the topics do not exist yet)'}`);
  if (t.rows.length === 0) {
    out.push('', 'nothing about this key on the topics: is the key right, and is the entity enabled in this pipeline?');
    return `${out.join('\n')}\n`;
  }
  out.push('');
  out.push(...table([
    ['time', 'step', 'side', 'what', 'where'],
    ...t.rows.map((r) => [new Date(r.time).toISOString(), r.stage, r.side ? SIDE[r.side] : '', r.summary, r.at.join(' -> ')]),
  ]).map((l) => `  ${l}`));
  return `${out.join('\n')}\n`;
}
