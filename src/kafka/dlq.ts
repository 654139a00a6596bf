import type { IHeaders, KafkaMessage, Message } from 'kafkajs';
import { redactText } from '../observability/redact.ts';
import { errorMessage, errorName, stackHead } from './errors.ts';

/** Header `shopforce dlq replay` puts on a record it sends back to its source topic: where it came from. */
export const REPLAYED_HEADER = 'shopforce-replayed-from';

/** Why a record was dead-lettered. */
export type DlqFailure = 'decode' | 'non-retryable' | 'retries-exhausted';

export const DLQ_HEADER = {
  reason: 'dlq.reason',
  failure: 'dlq.failure',
  errorClass: 'dlq.error.class',
  errorName: 'dlq.error.name',
  stack: 'dlq.error.stack',
  attempts: 'dlq.attempts',
  processor: 'dlq.processor',
  group: 'dlq.group',
  failedAt: 'dlq.failed-at',
  sourceTopic: 'dlq.source.topic',
  sourcePartition: 'dlq.source.partition',
  sourceOffset: 'dlq.source.offset',
  sourceTimestamp: 'dlq.source.timestamp',
} as const;

export interface DlqInput {
  processor: string;
  groupId: string;
  failure: DlqFailure;
  error: unknown;
  errorClass: string;
  attempts: number;
  topic: string;
  partition: number;
  message: KafkaMessage;
  now?: Date;
}

/**
 * The DLQ record for a failed input: the original key, value and headers unchanged (so it can be
 * replayed as is), plus `dlq.*` headers with the reason, error class and name, stack head,
 * attempts and the source topic/partition/offset/timestamp.
 */
export function buildDlqMessage(input: DlqInput): Message {
  const cause = input.error instanceof Error && input.error.name === 'RetriesExhaustedError' && input.error.cause ? input.error.cause : input.error;
  const headers: IHeaders = { ...(input.message.headers ?? {}) };
  const set = (k: string, v: string) => { headers[k] = Buffer.from(v, 'utf8'); };
  // a reason or stack may quote a connection URL or a token: their secrets never reach the topic
  set(DLQ_HEADER.reason, redactText(errorMessage(cause)).slice(0, 2000));
  set(DLQ_HEADER.failure, input.failure);
  set(DLQ_HEADER.errorClass, input.errorClass);
  set(DLQ_HEADER.errorName, errorName(cause));
  set(DLQ_HEADER.stack, redactText(stackHead(cause)));
  set(DLQ_HEADER.attempts, String(input.attempts));
  set(DLQ_HEADER.processor, input.processor);
  set(DLQ_HEADER.group, input.groupId);
  set(DLQ_HEADER.failedAt, (input.now ?? new Date()).toISOString());
  set(DLQ_HEADER.sourceTopic, input.topic);
  set(DLQ_HEADER.sourcePartition, String(input.partition));
  set(DLQ_HEADER.sourceOffset, input.message.offset);
  set(DLQ_HEADER.sourceTimestamp, input.message.timestamp);
  return { key: input.message.key, value: input.message.value, headers };
}

export interface DlqEntry {
  reason: string;
  failure: string;
  errorClass: string;
  errorName: string;
  stack: string;
  attempts: number;
  processor: string;
  groupId: string;
  failedAt: string;
  source: { topic: string; partition: number; offset: string; timestamp: string };
  /** The original headers, without the dlq.* ones. */
  headers: Record<string, string>;
  key: Buffer | null;
  value: Buffer | null;
}

/** Reads a DLQ record back (for `shopforce dlq list/replay`). */
export function parseDlqMessage(message: Pick<KafkaMessage, 'key' | 'value' | 'headers'>): DlqEntry {
  const all = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, headerText(v)]));
  const h = (name: string) => all[name] ?? '';
  return {
    reason: h(DLQ_HEADER.reason),
    failure: h(DLQ_HEADER.failure),
    errorClass: h(DLQ_HEADER.errorClass),
    errorName: h(DLQ_HEADER.errorName),
    stack: h(DLQ_HEADER.stack),
    attempts: Number(h(DLQ_HEADER.attempts) || 0),
    processor: h(DLQ_HEADER.processor),
    groupId: h(DLQ_HEADER.group),
    failedAt: h(DLQ_HEADER.failedAt),
    source: { topic: h(DLQ_HEADER.sourceTopic), partition: Number(h(DLQ_HEADER.sourcePartition)), offset: h(DLQ_HEADER.sourceOffset), timestamp: h(DLQ_HEADER.sourceTimestamp) },
    headers: Object.fromEntries(Object.entries(all).filter(([k]) => !k.startsWith('dlq.'))),
    key: message.key ?? null,
    value: message.value ?? null,
  };
}

export function headerText(v: IHeaders[string]): string {
  if (v === undefined) return '';
  if (Array.isArray(v)) return v.map((x) => x.toString()).join(',');
  return v.toString();
}
