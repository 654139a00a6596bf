import pino from 'pino';

/** Paths whose values never reach a log line. */
export const REDACTED_PATHS = [
  'password', '*.password', 'clientSecret', '*.clientSecret', 'client_secret', '*.client_secret',
  'accessToken', '*.accessToken', 'access_token', '*.access_token', 'refreshToken', '*.refreshToken',
  'privateKey', '*.privateKey', 'authorization', '*.authorization', 'headers.authorization',
  'connectionString', '*.connectionString', 'assertion', '*.assertion',
];

export type Logger = pino.Logger;

export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  // logs go to stderr: stdout stays clean for command output (e.g. --json)
  return pino({ name, level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, pino.destination(2));
}
