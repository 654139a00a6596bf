/**
 * Shapes at the boundaries of the Salesforce change-event source: what a subscriber hands over
 * (ChangeEvent), what lands on sf.cdc.<Object> (SfCdcMessage) and on the checkpoint topic.
 */

export type ChangeType =
  | 'CREATE' | 'UPDATE' | 'DELETE' | 'UNDELETE'
  | 'GAP_CREATE' | 'GAP_UPDATE' | 'GAP_DELETE' | 'GAP_UNDELETE' | 'GAP_OVERFLOW';

/** The ChangeEventHeader as Salesforce defines it (CometD leaves out nulledFields and diffFields). */
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

/** One change event, decoded and normalized (dates as ISO strings), from either API. */
export interface ChangeEvent {
  channel: string;
  /** Opaque replay id as a decimal string. */
  replayId: string;
  header: ChangeEventHeader;
  /**
   * Field values this event states: every field for CREATE/UNDELETE, the changed fields for
   * UPDATE (nulled ones as null), none for DELETE and GAP_* events.
   */
  fields: Record<string, unknown>;
  /** Changed fields whose new value the event does not carry (diffFields): the record is re-read. */
  unstated: string[];
}

/** Which API delivered an event, or 'reread' for a record read back by REST/SOQL. */
export type SourceMode = 'pubsub' | 'streaming';
export type MessageOrigin = SourceMode | 'reread';

/** Where the full record image of a message came from. */
export type ImageSource = 'event' | 'image' | 'rest' | 'partial' | 'none';

/**
 * The value of a message on sf.cdc.<Object> (JSON). Key: the record id. One message per record
 * id of an event, in replay order, so per-record order holds on a partition.
 */
export interface SfCdcMessage {
  /** The event's replay id; null for records read back by REST/SOQL (origin 'reread'). */
  replayId: string | null;
  /** Unique source position for duplicate detection: `<replayId>` or `reread:<commitTimestamp>:<id>`. */
  position: string;
  channel: string;
  object: string;
  recordId: string;
  changeType: ChangeType;
  ChangeEventHeader: ChangeEventHeader;
  /** The fields this event changed (UPDATE), or all it carried (CREATE/UNDELETE). */
  changed: Record<string, unknown>;
  /** Full record image after the change (with Id); null for DELETE / GAP_DELETE / a record gone. */
  record: Record<string, unknown> | null;
  imageSource: ImageSource;
  origin: MessageOrigin;
  /** For origin 'reread': why (gap, overflow, replay-id-invalid, parse-error). */
  rereadReason?: string;
}

/** The value of a checkpoint (key = channel) on the checkpoint topic. */
export interface Checkpoint {
  channel: string;
  object: string;
  /**
   * Replay id of the last event whose messages Kafka acknowledged; null after a re-read
   * (resume then means: re-read since commitTimestamp, then subscribe from LATEST).
   */
  replayId: string | null;
  /** Commit time (epoch ms) of that event, or the start time of the re-read. */
  commitTimestamp: number;
  writtenAt: string;
}

/** Header names on sf.cdc.<Object> messages. */
export const CDC_HEADERS = {
  replayId: 'sf-replay-id',
  transactionKey: 'sf-transaction-key',
  commitTimestamp: 'sf-commit-timestamp',
  changeOrigin: 'sf-change-origin',
  changeType: 'sf-change-type',
} as const;
