import type { ChangeType } from './change-event.ts';

/** The ChangeEventHeader as the emulator keeps it: field lists hold field names, not bitmaps. */
export interface ChangeEventHeader {
  entityName: string;
  recordIds: string[];
  changeType: ChangeType;
  changeOrigin: string;
  transactionKey: string;
  sequenceNumber: number;
  commitTimestamp: number;
  commitNumber: number;
  commitUser: string;
  changedFields: string[];
  nulledFields: string[];
  diffFields: string[];
}

/** 'cdc' = a change event of an sObject; 'platform' = a published platform event (/event/Foo__e). */
export type EventKind = 'cdc' | 'platform';

/** What the event log persists for one event, before it is shaped for CometD or Pub/Sub. */
export interface EventBody {
  /** Present for change events. */
  header?: ChangeEventHeader;
  /** Record fields after the change (CDC) or the published fields (platform events). */
  fields: Record<string, unknown>;
  /** Publisher's correlation key / event uuid (platform events). */
  eventUuid?: string;
}

export interface NewEvent {
  kind: EventKind;
  /** The per-entity channel: /data/AccountChangeEvent, /data/Foo__ChangeEvent, /event/Foo__e. */
  topic: string;
  /** sObject or platform event API name. */
  entity: string;
  body: EventBody;
}

export interface StoredEvent extends NewEvent {
  replayId: number;
  createdAt: number;   // epoch ms when the log accepted it (retention is measured from here)
}
