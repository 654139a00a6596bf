export { createSalesforceSink, type CreateSinkOptions, type FlushStats } from './sink.ts';
export type {
  OutcomeStatus, ParentRef, QuotaMode, QuotaState, SalesforceErrorInfo, SalesforceSink, SinkConfig, SinkOptions, SinkTuning, WriteOutcome,
} from './types.ts';
export { DEFAULT_TUNING } from './types.ts';
export { sinkMetrics, type SinkMetrics } from './metrics.ts';
