import pino from 'pino';
import pretty from 'pino-pretty';
import { redactLogLine } from './redact.ts';

export type Logger = pino.Logger;

export type LogFormat = 'pretty' | 'json';

/**
 * How log lines look: readable lines (pino-pretty) when stderr is a terminal, one JSON object a line
 * when it is piped, redirected or in a container. LOG_FORMAT=pretty|json overrides the guess.
 */
export function logFormat(env: NodeJS.ProcessEnv = process.env, isTTY = process.stderr.isTTY === true): LogFormat {
  const wanted = env.LOG_FORMAT?.toLowerCase();
  if (wanted === 'pretty' || wanted === 'json') return wanted;
  return isTTY ? 'pretty' : 'json';
}

/** The pino-pretty stream: synchronous, so nothing is lost when the process exits right after a line. */
export function prettyStream(destination: number | NodeJS.WritableStream = 2, colorize = process.stderr.isTTY === true): pretty.PrettyStream {
  return pretty({
    destination, sync: true, colorize,
    translateTime: 'SYS:HH:MM:ss.l',
    // processor, stage and component are printed before the message (below) when present
    ignore: 'pid,hostname,processor,stage,component',
    // "INFO (pipeline/reconciler): stage started" — the logger and its processor or stage
    messageFormat: '{if processor}{processor}: {end}{if stage}{stage}: {end}{if component}{component}: {end}{msg}',
    hideObject: false,
    singleLine: true,
  });
}

/** Loggers created with the process-wide level: they follow a later applyConfiguredLogLevel. */
const followers = new Set<WeakRef<Logger>>();

export function createLogger(name: string, level?: string): Logger {
  // every finished line passes through the redaction: secret-looking keys at any depth (error causes,
  // nested options, HTTP headers), passwords in URLs and messages (src/observability/redact.ts)
  const options: pino.LoggerOptions = { name, level: level ?? process.env.LOG_LEVEL ?? 'info', hooks: { streamWrite: redactLogLine } };
  // logs go to stderr: stdout stays clean for command output (e.g. --json)
  const logger = logFormat() === 'pretty' ? pino(options, prettyStream()) : pino(options, pino.destination(2));
  if (level === undefined) followers.add(new WeakRef(logger));
  return logger;
}

/**
 * The configuration's log level (observability.logLevel) becomes the process's, unless the person
 * running the command chose one (--log-level or LOG_LEVEL, see src/cli/main.ts): applied to the
 * loggers already made with the process-wide level and to every later one. Returns the level in force.
 */
export function applyConfiguredLogLevel(level: string, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = env.LOG_LEVEL !== undefined && env.SHOPFORCE_LOG_LEVEL_IMPLICIT !== '1';
  if (chosen) return env.LOG_LEVEL!;
  env.LOG_LEVEL = level;
  env.SHOPFORCE_LOG_LEVEL_IMPLICIT = '1';
  for (const ref of followers) {
    const logger = ref.deref();
    if (logger) logger.level = level;
    else followers.delete(ref);
  }
  return level;
}
