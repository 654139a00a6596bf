/** A drifted key as a sync.audit record (stage DRIFT), with what differs and what the repair sent. */
import { createHash } from 'node:crypto';
import type { AuditEvent } from '../reconcile/audit.ts';
import type { Side } from '../reconcile/types.ts';
import type { Comparison } from './compare.ts';
import type { DriftRun, Repair } from './repair.ts';

/** A value shortened for a table cell or a log line. */
export function shortValue(v: unknown, max = 60): string {
  const text = v === undefined ? '-' : typeof v === 'string' ? v : JSON.stringify(v);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Each differing field's value on each side. */
export function differingValues(c: Comparison): Record<string, Record<Side, string>> {
  return Object.fromEntries(c.fields.map((f) => [f, { SHOP: shortValue(c.records.SHOP?.[f]), SALESFORCE: shortValue(c.records.SALESFORCE?.[f]) }]));
}

/** One line: what is off, where. */
export function describeDrift(c: Comparison): string {
  const where = c.side === 'SHOP' ? 'the shop' : 'Salesforce';
  switch (c.kind) {
    case 'missing': return `missing in ${where}`;
    case 'extra': return `only in ${where}`;
    case 'kept': return `only in ${where} (kept by the delete policy)`;
    case 'different': return `different in ${where}: ${c.fields.map((f) => `${f} (shop ${shortValue(c.records.SHOP?.[f], 30)}, salesforce ${shortValue(c.records.SALESFORCE?.[f], 30)})`).join(', ')}`;
    case 'unreadable': return `unreadable: ${c.error}`;
    default: return 'the same on both sides';
  }
}

export function driftAuditEvent(c: Comparison, run: DriftRun, entity: string, repair: Repair | undefined, at: number): AuditEvent {
  const commands = repair ? [...repair.salesforce, ...repair.shop].map((w) => w.commandId) : [];
  const repaired = !repair ? '' : repair.routed.length
    ? `; repair: ${repair.routed.length} change(s) of the sides to the reconciler`
    : `; repair: ${commands.length} command(s)${commands.length ? ` to ${repair.salesforce.length ? 'Salesforce' : 'the shop'}` : ' (nothing the policy writes)'}`;
  return {
    auditId: createHash('sha256').update([run.runId, c.key, 'DRIFT'].join('\u0000')).digest('hex').slice(0, 32),
    shopId: run.shopId, entity, key: c.key, stage: 'DRIFT', decision: null, origin: c.side,
    sourcePosition: `drift:${run.runId}`, transactionId: `drift:${run.runId}`, eventTime: run.startedAt, at, processor: 'drift',
    changedFields: c.fields, conflictFields: [], policy: null, alert: true, commandIds: commands,
    message: `${describeDrift(c)}${repaired}`,
    details: JSON.stringify({
      kind: c.kind, side: c.side, fields: c.fields, values: differingValues(c),
      records: { SHOP: c.images.SHOP.map((i) => `${i.part}:${i.recordId}`), SALESFORCE: c.images.SALESFORCE.map((i) => `${i.part}:${i.recordId}`) },
      repair: repair ? { commands, routedChanges: repair.routed.length } : null,
    }),
  };
}
