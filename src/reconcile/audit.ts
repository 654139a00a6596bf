/** Reconcile audit entries as sync.audit values (schemas/audit.avsc). */
import { createHash } from 'node:crypto';
import type { AuditEntry } from './types.ts';

export interface AuditEvent {
  auditId: string;
  shopId: string;
  entity: string;
  key: string;
  stage: 'SOURCE' | 'DECISION' | 'WRITE' | 'WRITE_RESULT' | 'DLQ' | 'DRIFT' | 'OTHER';
  decision: 'DUPLICATE' | 'ECHO' | 'APPLY' | 'CONFLICT' | 'NOOP' | 'OTHER' | null;
  origin: 'SHOP' | 'SALESFORCE' | null;
  sourcePosition: string | null;
  transactionId: string | null;
  eventTime: number | null;
  at: number;
  processor: string | null;
  changedFields: string[];
  conflictFields: string[];
  policy: string | null;
  alert: boolean;
  commandIds: string[];
  message: string;
  details: string | null;
}

export function decisionAuditEvent(entry: AuditEntry, meta: { shopId: string; entity: string; processor: string; at: number }): AuditEvent {
  return {
    auditId: createHash('sha256').update([entry.key, entry.origin, entry.sourcePosition, 'DECISION'].join('\u0000')).digest('hex').slice(0, 32),
    shopId: meta.shopId, entity: meta.entity, key: entry.key, stage: 'DECISION',
    decision: entry.decision.toUpperCase() as AuditEvent['decision'],
    origin: entry.origin, sourcePosition: entry.sourcePosition, transactionId: entry.transactionId, eventTime: entry.eventTime,
    at: meta.at, processor: meta.processor, changedFields: entry.changedFields, conflictFields: entry.conflictFields,
    policy: entry.policy, alert: entry.alert, commandIds: entry.writeIds, message: entry.message,
    details: entry.acknowledged.length ? JSON.stringify({ acknowledged: entry.acknowledged }) : null,
  };
}

/** A watched state of a record (docs/design.md, "Reconciliation": watches) that lasted too long, or ended after its alert. */
export interface WatchAudit {
  shopId: string;
  entity: string;
  key: string;
  kind: string;
  /** When the state opened (wall clock, ms): with key and kind, it names the occurrence. */
  since: number;
  at: number;
  /** 'overdue': still open after the delay (an alert); 'cleared': over, after its alert. */
  phase: 'overdue' | 'cleared';
  message: string;
}

export function watchAuditEvent(w: WatchAudit): AuditEvent {
  return {
    auditId: createHash('sha256').update([w.key, w.kind, String(w.since), w.phase].join('\u0000')).digest('hex').slice(0, 32),
    shopId: w.shopId, entity: w.entity, key: w.key, stage: 'DRIFT', decision: null, origin: null,
    sourcePosition: null, transactionId: null, eventTime: null, at: w.at, processor: 'reconciler',
    changedFields: [], conflictFields: [], policy: null, alert: w.phase === 'overdue', commandIds: [], message: w.message,
    details: JSON.stringify({ kind: w.kind, since: w.since, phase: w.phase }),
  };
}
