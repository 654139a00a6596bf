export { createSalesforceSource, type SalesforceSource, type SalesforceSourceOptions, type SalesforceSourceStatus, type SourceAlert } from './source.ts';
export { changeEventChannel, objectTopic } from './channels.ts';
export { sourceMetrics, type SourceMetrics } from './metrics.ts';
export { CDC_HEADERS, type SfCdcMessage, type Checkpoint, type ChangeEvent, type ChangeEventHeader, type ChangeType } from './types.ts';
export type { ChannelStatus, WrittenBatch } from './channel-pipeline.ts';
