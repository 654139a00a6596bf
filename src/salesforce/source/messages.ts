import type { Message } from 'kafkajs';
import { SOURCE_TIME_HEADER } from '../../kafka/types.ts';
import { CDC_HEADERS, type ChangeEventHeader, type SfCdcMessage } from './types.ts';

/** The Kafka message of one record of a change event: key = record id, JSON value, source headers. */
export function cdcKafkaMessage(m: SfCdcMessage): Message {
  const h: ChangeEventHeader = m.ChangeEventHeader;
  return {
    key: m.recordId,
    value: JSON.stringify(m),
    headers: {
      [CDC_HEADERS.replayId]: m.replayId ?? '',
      [CDC_HEADERS.transactionKey]: h.transactionKey,
      [CDC_HEADERS.commitTimestamp]: String(h.commitTimestamp),
      [CDC_HEADERS.changeOrigin]: h.changeOrigin,
      [CDC_HEADERS.changeType]: m.changeType,
      [SOURCE_TIME_HEADER]: String(h.commitTimestamp),
    },
  };
}

/** Header of a record read back by REST/SOQL: commit time = its LastModifiedDate. */
export function rereadHeader(object: string, record: Record<string, unknown>, transactionKey: string): ChangeEventHeader {
  const modified = Date.parse(String(record.LastModifiedDate ?? record.SystemModstamp ?? ''));
  return {
    entityName: object,
    recordIds: [String(record.Id)],
    changeType: 'GAP_UPDATE',
    changeOrigin: '',
    transactionKey,
    sequenceNumber: 1,
    commitTimestamp: Number.isNaN(modified) ? Date.now() : modified,
    commitNumber: 0,
    commitUser: String(record.LastModifiedById ?? ''),
    changedFields: [],
    nulledFields: [],
    diffFields: [],
  };
}
