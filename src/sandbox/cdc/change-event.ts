/**
 * One committed change of one or more records, as the emulator's store reports it to the CDC
 * publisher. The publisher turns it into Salesforce change events (CometD and Pub/Sub shapes).
 */
export type ChangeType =
  | 'CREATE' | 'UPDATE' | 'DELETE' | 'UNDELETE'
  | 'GAP_CREATE' | 'GAP_UPDATE' | 'GAP_DELETE' | 'GAP_UNDELETE' | 'GAP_OVERFLOW';

export interface RecordChange {
  entityName: string;            // object API name, e.g. "Product2"
  recordIds: string[];           // 18-char ids (several when Salesforce would merge identical changes)
  changeType: ChangeType;
  /** Field values after the change: all fields for CREATE/UNDELETE, changed fields for UPDATE, none for DELETE/GAP. */
  fields: Record<string, unknown>;
  changedFields: string[];       // for UPDATE: fields whose value changed (incl. LastModifiedDate)
  nulledFields: string[];        // fields set to null in this change
  diffFields: string[];          // large text fields sent as diffs (always empty here)
}

export interface CommittedTransaction {
  transactionKey: string;        // unique per API call / transaction
  commitTimestamp: number;       // epoch ms
  commitNumber: number;          // monotonic per org
  commitUser: string;            // user id (005...)
  /** `com/salesforce/api/rest/60.0;client=<Sforce-Call-Options client>` or '' for UI edits */
  changeOrigin: string;
  /** In commit order; sequenceNumber is the 1-based index within the transaction. */
  changes: RecordChange[];
}

/** Whatever commits records calls this once per transaction, after the commit. */
export type TransactionListener = (tx: CommittedTransaction) => void;
