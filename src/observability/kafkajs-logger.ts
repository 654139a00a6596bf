import { logLevel, type logCreator } from 'kafkajs';
import type { Logger } from './logger.ts';

/** kafkajs' own log lines through pino (JSON, one stream, the process's level). */
export function kafkajsLogCreator(log: Logger): logCreator {
  const child = log.child({ component: 'kafkajs' });
  return () => ({ level, log: entry }) => {
    const { message, ...fields } = entry;
    if (level === logLevel.ERROR) child.error(fields, message);
    else if (level === logLevel.WARN) child.warn(fields, message);
    else if (level === logLevel.INFO) child.info(fields, message);
    else child.debug(fields, message);
  };
}
