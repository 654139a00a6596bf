import type { KafkaMessage, TopicMessages } from 'kafkajs';
import { buildDlqMessage, type DlqFailure } from '../dlq.ts';
import { errorMessage } from '../errors.ts';
import { RetriesExhaustedError } from '../retry.ts';
import type { ProcessorSettings } from './settings.ts';

type DeadLetterSettings = Pick<ProcessorSettings<unknown, unknown>, 'name' | 'groupId' | 'dlqTopic' | 'classify' | 'metrics' | 'label' | 'log'>;

/** A record that could not be handled. */
export interface DeadRecord {
  topic: string;
  partition: number;
  message: KafkaMessage;
  failure: DlqFailure;
  error: unknown;
  attempts: number;
}

/**
 * The DLQ record for a failed input (see buildDlqMessage), to produce with the chunk's outputs:
 * counted and logged here.
 */
export function deadLetter(s: DeadLetterSettings, dead: DeadRecord): TopicMessages[] {
  const { topic, partition, message, failure, error, attempts } = dead;
  const errorClass = error instanceof RetriesExhaustedError ? error.errorClass : s.classify(error);
  s.metrics.dlq.inc({ ...s.label, reason: failure });
  const cause = error instanceof RetriesExhaustedError ? error.lastError : error;
  s.log.warn({ topic, partition, offset: message.offset, failure, errorClass, attempts, err: errorMessage(cause) }, 'record sent to the dead-letter topic');
  const dlq = buildDlqMessage({ processor: s.name, groupId: s.groupId, failure, error, errorClass, attempts, topic, partition, message });
  return [{ topic: s.dlqTopic, messages: [dlq] }];
}
