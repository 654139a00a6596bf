import { logLevel, type logCreator } from 'kafkajs';
import type { Logger } from './logger.ts';

/** kafkajs' own log lines through pino (JSON, one stream, the process's level). */
export function kafkajsLogCreator(log: Logger): logCreator {
  const child = log.child({ component: 'kafkajs' });
  return () => ({ level, log: entry }) => {
    const { message, ...fields } = entry;
    // the broker's "previous commit still settling" answer: expected between transactions, retried
    if (typeof fields.error === 'string' && fields.error.includes('concurrent operation on the same transaction')) return child.debug(fields, message);
    if (level === logLevel.ERROR) child.error(fields, message);
    else if (level === logLevel.WARN) child.warn(fields, message);
    else if (level === logLevel.INFO) child.info(fields, message);
    else child.debug(fields, message);
  };
}
