import { logLevel, type logCreator } from 'kafkajs';
import type { Logger } from './logger.ts';

const TRANSIENT = ['not the leader for that topic-partition', 'does not host this topic-partition', 'coordinator is loading', 'coordinator is not available', 'There is no leader for this topic-partition'];

/** kafkajs' own log lines through pino (JSON, one stream, the process's level). */
export function kafkajsLogCreator(log: Logger): logCreator {
  const child = log.child({ component: 'kafkajs' });
  return () => ({ level, log: entry }) => {
    const { message, ...fields } = entry;
    const error = typeof fields.error === 'string' ? fields.error : '';
    // the broker's "previous commit still settling" answer: expected between transactions, retried
    if (error.includes('concurrent operation on the same transaction')) return child.debug(fields, message);
    // answers kafkajs retries by itself while a new topic gets its leader or a coordinator loads
    if (level === logLevel.ERROR && TRANSIENT.some((t) => error.includes(t))) return child.warn(fields, message);
    if (level === logLevel.ERROR) child.error(fields, message);
    else if (level === logLevel.WARN) child.warn(fields, message);
    else if (level === logLevel.INFO) child.info(fields, message);
    else child.debug(fields, message);
  };
}
