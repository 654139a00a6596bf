import { toJsonValue, type EventSchema } from './avro-schemas.ts';
import type { StoredEvent } from './stored-event.ts';

/** A CometD event message as the Streaming API delivers it. */
export interface CometdEventMessage {
  channel: string;
  data: { schema: string; payload: Record<string, unknown>; event: Record<string, unknown> };
}

/**
 * The Streaming API shape of a stored event: null and unchanged fields left out, dates as UTC
 * strings, ChangeEventHeader without nulledFields/diffFields.
 */
export function cometdMessage(channel: string, schema: EventSchema, event: StoredEvent): CometdEventMessage {
  const payload: Record<string, unknown> = {};
  const h = event.body.header;
  if (h) {
    payload.ChangeEventHeader = {
      entityName: h.entityName, recordIds: h.recordIds, changeType: h.changeType, changeOrigin: h.changeOrigin,
      transactionKey: h.transactionKey, sequenceNumber: h.sequenceNumber, commitTimestamp: h.commitTimestamp,
      commitNumber: h.commitNumber, commitUser: h.commitUser, changedFields: h.changedFields,
    };
  }
  for (const f of schema.fields) {
    const value = toJsonValue(f.fieldType, event.body.fields[f.name]);
    if (value !== null) payload[f.name] = value;
  }
  const eventInfo: Record<string, unknown> = { replayId: event.replayId };
  if (event.body.eventUuid) eventInfo.EventUuid = event.body.eventUuid;
  return { channel, data: { schema: schema.id, payload, event: eventInfo } };
}
