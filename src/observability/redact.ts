/**
 * What never reaches a log line, an error message or a dead-letter header: the values of
 * secret-looking keys at any depth (password, secret, token, API and private keys, authorization,
 * cookie, credentials, assertion, session id, connection string...), and secrets inside text: the
 * password of a URL (postgres://user:pass@host → postgres://user:[redacted]@host), `password=...`
 * pairs and `Bearer` tokens. A bare `key` is the Kafka record key (<shop>:<entity>:<id>) and stays.
 */
export const REDACTED = '[redacted]';

/** Key names (lower case, without - and _) whose values are secrets. */
const SECRET_KEY = /password|passwd|passphrase|^pwd$|secret|token|(api|private|secret|access|signing|encryption|client|master|session|auth)key$|authorization|cookie|credential|assertion|sessionid|signature|^jwt$/;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key.toLowerCase().replace(/[-_]/g, ''));
}

// scheme://user:password@ (and scheme://:password@): the user stays, the password goes
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@'"]*):([^\s@/'"]+)@/gi;
// libpq / JDBC style key=value pairs and "password: x" in messages
const PASSWORD_PAIR = /\b(password|passwd|pwd|secret|token|api[-_]?key|client[-_]?secret)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s&;,'"]+)/gi;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g;

/** The text with URL passwords, password=... pairs and bearer/basic credentials replaced. */
export function redactText(text: string): string {
  return text
    .replace(URL_PASSWORD, `$1:${REDACTED}@`)
    .replace(PASSWORD_PAIR, `$1$2${REDACTED}`)
    .replace(BEARER, `$1 ${REDACTED}`);
}

/** A copy of a JSON-like value with every secret-looking key's value and every secret in text replaced. */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object' || depth > 32) return value;
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = v !== null && v !== undefined && v !== '' && isSecretKey(k) ? REDACTED : redactSecrets(v, depth + 1);
  }
  return out;
}

/** A finished JSON log line with its secrets redacted (the line as is when it is not JSON). */
export function redactLogLine(line: string): string {
  const end = line.endsWith('\n') ? '\n' : '';
  try {
    return JSON.stringify(redactSecrets(JSON.parse(line))) + end;
  } catch {
    return redactText(line);
  }
}
