/**
 * What a sink did with one write command, as a sync.audit record (stage WRITE_RESULT): applied (with
 * the Salesforce id), skipped, coalesced into a later command, parked until its parent lands, or
 * dead-lettered (with the error). One record per outcome, so `shopforce trace` can tell a command's end.
 */
import { createHash } from 'node:crypto';
import type { SalesforceWrite, ShopWrite } from '../entities/types.ts';
import type { AuditEvent } from '../reconcile/audit.ts';
import type { WriteOutcome } from '../salesforce/sink/types.ts';
import type { ShopWriteOutcome } from '../shop/sink/shop-sink.ts';

export type WriteStatus = 'applied' | 'skipped' | 'coalesced' | 'parked' | 'dead-lettered';

/** The details JSON of a WRITE_RESULT record. */
export interface WriteResultDetails {
  status: WriteStatus;
  target: 'SALESFORCE' | 'SHOP';
  operation: 'UPSERT' | 'DELETE';
  /** Salesforce object or shop table. */
  object: string;
  /** External id (Salesforce) or key columns' values (shop). */
  recordKey: string;
  /** The Salesforce record id, when known. */
  id?: string;
  created?: boolean;
  api?: string;
  /** Why it was skipped, coalesced, parked or dead-lettered. */
  reason?: string;
}

type CommandRef = Pick<SalesforceWrite, 'commandId' | 'shopId' | 'entity' | 'key' | 'sourcePosition' | 'transactionId' | 'eventTime'>;

export function writeResultEvent(command: CommandRef, details: WriteResultDetails, meta: { processor: string; at: number }): AuditEvent {
  const what = `${details.operation === 'DELETE' ? 'delete of ' : ''}${details.object} ${details.recordKey}${details.id ? ` (${details.id})` : ''}`;
  return {
    // a redelivered command that ends the same way gives the same id
    auditId: createHash('sha256').update([command.commandId, 'WRITE_RESULT', details.status].join('\u0000')).digest('hex').slice(0, 32),
    shopId: command.shopId, entity: command.entity, key: command.key, stage: 'WRITE_RESULT', decision: null,
    origin: details.target, sourcePosition: command.sourcePosition, transactionId: command.transactionId, eventTime: command.eventTime,
    at: meta.at, processor: meta.processor, changedFields: [], conflictFields: [], policy: null,
    alert: details.status === 'dead-lettered', commandIds: [command.commandId],
    message: `${details.status}: ${what}${details.reason ? `: ${details.reason}` : ''}`,
    details: JSON.stringify(details),
  };
}

/** A Salesforce sink outcome as a write result; undefined for `retryable` (the command is written again, and recorded then). */
export function salesforceWriteResult(o: WriteOutcome): WriteResultDetails | undefined {
  const c = o.command;
  const base = { target: 'SALESFORCE' as const, operation: c.operation, object: c.sobject, recordKey: c.externalId };
  const error = (e: { errorCode: string; message: string; fields: string[] }) => `${e.errorCode}: ${e.message}${e.fields.length ? ` [${e.fields.join(', ')}]` : ''}`;
  switch (o.status) {
    case 'applied': return { ...base, status: 'applied', id: o.id, created: o.created, api: o.api };
    case 'skipped': return { ...base, status: 'skipped', id: o.id, reason: o.reason === 'unchanged' ? 'the record holds these values already (our last write)' : 'not found (nothing to delete)' };
    case 'coalesced': return { ...base, status: 'coalesced', reason: `merged into command ${o.supersededBy}` };
    case 'parked': return { ...base, status: 'parked', reason: `waits for its parent ${o.parent.sobject} ${o.parent.externalId} (${error(o.error)})` };
    case 'failed': return { ...base, status: 'dead-lettered', reason: `${o.reason} (${error(o.error)})` };
    case 'retryable': return undefined;
  }
}

/** A shop sink outcome as a write result. */
export function shopWriteResult(command: ShopWrite, o: ShopWriteOutcome): WriteResultDetails {
  const base = { target: 'SHOP' as const, operation: command.operation, object: o.table, recordKey: command.keyColumns.map((k) => String(command.row[k])).join('|') };
  switch (o.status) {
    case 'applied': return { ...base, status: 'applied' };
    case 'duplicate':
    case 'stale': return { ...base, status: 'skipped', reason: o.reason };
    case 'failed': return { ...base, status: 'dead-lettered', reason: o.reason };
  }
}
