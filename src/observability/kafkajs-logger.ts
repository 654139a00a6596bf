import { createRequire } from 'node:module';
import { logLevel, type logCreator } from 'kafkajs';
import type { Logger } from './logger.ts';

interface ProtocolErrorCode { type: string; code: number; retriable: boolean; message: string }

/**
 * The texts of the broker answers kafkajs treats as retriable (its own table of Kafka protocol
 * errors: NOT_LEADER_FOR_PARTITION, UNKNOWN_TOPIC_OR_PARTITION, LEADER_NOT_AVAILABLE,
 * GROUP_COORDINATOR_NOT_AVAILABLE, GROUP_LOAD_IN_PROGRESS, CONCURRENT_TRANSACTIONS, ...).
 */
function retriableMessages(): string[] {
  try {
    const { errorCodes } = createRequire(import.meta.url)('kafkajs/src/protocol/error.js') as { errorCodes: ProtocolErrorCode[] };
    const messages = errorCodes.filter((e) => e.retriable).map((e) => e.message);
    if (messages.length > 0) return messages;
  } catch {
    // kafkajs moved its table: fall back to the answers a start of the local stack gives
  }
  return [
    'This server is not the leader for that topic-partition', 'This server does not host this topic-partition',
    'There is no leader for this topic-partition', 'The group coordinator is not available',
    'The coordinator is loading and hence can\'t process requests for this group',
    'The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing',
  ];
}

const RETRIABLE = retriableMessages();
const isRetriable = (text: string) => text !== '' && RETRIABLE.some((m) => text.includes(m));

/**
 * Whether a kafkajs line is chatter: an answer kafkajs itself retries, or reports to a caller that
 * handles it. Such lines go to debug; what is left at warn or error means a person should look.
 */
export function isKafkajsChatter(message: string, fields: Record<string, unknown>): boolean {
  const error = typeof fields.error === 'string' ? fields.error : '';
  // "Response Metadata(...)" etc. with a retriable error: the request is retried (connection.js logs
  // every failed response at error before its caller decides); a caller that runs out of retries throws
  if (isRetriable(error)) return true;
  // producer/sendMessages.js logs each retry of a produce as "Failed to send messages: <error>" at
  // error level; CONCURRENT_TRANSACTIONS is the broker's "the previous commit's markers are still being
  // written, ask again" answer between two transactions of one producer — kafkajs waits and retries
  if (message.startsWith('Failed to send messages: ') && isRetriable(message.slice('Failed to send messages: '.length))) return true;
  // CreateTopics answering TOPIC_ALREADY_EXISTS (another process created it first): admin.createTopics
  // treats it as done, and ensureTopics throws for any other reason, naming the topic
  if (message.startsWith('Response CreateTopics(') && error === 'Topic creation errors') return true;
  // the processors' transactional producers bound their retries on purpose: a transaction that
  // fails is aborted and its chunk handled again, so the bound cannot break exactly-once
  if (message === 'Limiting retries for the idempotent producer may invalidate EoS guarantees') return true;
  return false;
}

/** kafkajs' own log lines through pino (one stream, the process's level and format). */
export function kafkajsLogCreator(log: Logger): logCreator {
  const child = log.child({ component: 'kafkajs' });
  return () => ({ level, log: entry }) => {
    const { message, ...fields } = entry;
    if (level <= logLevel.WARN && isKafkajsChatter(message, fields)) return child.debug(fields, message);
    if (level === logLevel.ERROR) child.error(fields, message);
    else if (level === logLevel.WARN) child.warn(fields, message);
    else if (level === logLevel.INFO) child.info(fields, message);
    else child.debug(fields, message);
  };
}
