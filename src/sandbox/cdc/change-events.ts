import crypto from 'node:crypto';
import type { ChangeType, CommittedTransaction } from './change-event.ts';
import { changeEventChannel } from './channels.ts';
import type { NewEvent } from './stored-event.ts';

/** Salesforce sends one GAP_OVERFLOW instead of the changes past this many records per entity. */
export const OVERFLOW_RECORDS = 100_000;

/**
 * The change events of a committed transaction: one per RecordChange, in commit order, with
 * sequenceNumber 1..n. Past OVERFLOW_RECORDS records of one entity, a single GAP_OVERFLOW
 * event stands for the rest of that entity's changes.
 */
export function changeEventsOf(tx: CommittedTransaction): NewEvent[] {
  const events: NewEvent[] = [];
  const recordsPerEntity = new Map<string, number>();
  const overflowed = new Set<string>();
  for (const change of tx.changes) {
    const seen = (recordsPerEntity.get(change.entityName) ?? 0) + change.recordIds.length;
    recordsPerEntity.set(change.entityName, seen);
    if (overflowed.has(change.entityName)) continue;
    const overflow = seen > OVERFLOW_RECORDS;
    if (overflow) overflowed.add(change.entityName);
    const isGap = overflow || change.changeType.startsWith('GAP_');
    events.push({
      kind: 'cdc',
      topic: changeEventChannel(change.entityName),
      entity: change.entityName,
      body: {
        header: {
          entityName: change.entityName,
          recordIds: overflow ? [] : change.recordIds,
          changeType: overflow ? 'GAP_OVERFLOW' : change.changeType,
          changeOrigin: tx.changeOrigin,
          transactionKey: tx.transactionKey,
          sequenceNumber: events.length + 1,
          commitTimestamp: tx.commitTimestamp,
          commitNumber: tx.commitNumber,
          commitUser: tx.commitUser,
          changedFields: isGap ? [] : change.changedFields,
          nulledFields: isGap ? [] : change.nulledFields,
          diffFields: isGap ? [] : change.diffFields,
        },
        fields: isGap ? {} : change.fields,
      },
    });
  }
  return events;
}

/** Header values of events the emulator raises by itself (gaps, overflow). */
export interface SyntheticContext {
  commitNumber: number;
  commitUser: string;
  now: number;
}

/** A gap event (GAP_* or GAP_OVERFLOW): header only, no field data. */
export function gapEvent(entityName: string, recordIds: string[], changeType: ChangeType,
  ctx: SyntheticContext): NewEvent {
  return {
    kind: 'cdc',
    topic: changeEventChannel(entityName),
    entity: entityName,
    body: {
      header: {
        entityName, recordIds, changeType, changeOrigin: '',
        transactionKey: crypto.randomUUID().replace(/-/g, '').slice(0, 20),
        sequenceNumber: 1, commitTimestamp: ctx.now, commitNumber: ctx.commitNumber, commitUser: ctx.commitUser,
        changedFields: [], nulledFields: [], diffFields: [],
      },
      fields: {},
    },
  };
}
