import { SoqlError, located } from './errors.ts';

export type TokenKind =
  | 'ident' | 'string' | 'number' | 'date' | 'datetime'
  | 'op' | '(' | ')' | ',' | '.' | ':' | 'eof';

export interface Token {
  kind: TokenKind;
  text: string;       // as written (identifiers keep their casing)
  value?: string;     // decoded string literal
  position: number;
}

const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:?\d{2})/;
const DATE = /^\d{4}-\d{2}-\d{2}(?![\w:])/;
const NUMBER = /^\d+(?:\.\d+)?/;
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*/;
const OPERATORS = ['!=', '<>', '<=', '>=', '=', '<', '>'];

/**
 * SOQL string escapes. `\_` and `\%` stay escaped (a backslash before the character) because they
 * only mean something inside LIKE patterns; comparison code strips them for other operators.
 */
const ESCAPES: Record<string, string> = {
  n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', '"': '"', "'": "'", '\\': '\\\\', _: '\\_', '%': '\\%',
};

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (/\s/.test(ch)) { i++; continue; }
    const rest = text.slice(i);
    if (ch === "'") {
      let value = '';
      let j = i + 1;
      for (;;) {
        if (j >= text.length) {
          throw new SoqlError('MALFORMED_QUERY', located(text, i, `unexpected token: '${rest}' (unterminated string)`), i);
        }
        const c = text[j];
        if (c === "'") break;
        if (c === '\\') {
          const next = text[j + 1];
          const decoded = next === undefined ? undefined : ESCAPES[next];
          if (decoded === undefined) {
            throw new SoqlError('MALFORMED_QUERY', located(text, j, `Invalid string literal '${text.slice(i, j + 2)}'. Illegal character sequence '\\${next ?? ''}' in string literal.`), j);
          }
          value += decoded;
          j += 2;
          continue;
        }
        value += c;
        j++;
      }
      tokens.push({ kind: 'string', text: text.slice(i, j + 1), value, position: i });
      i = j + 1;
      continue;
    }
    let m = DATETIME.exec(rest);
    if (m) { tokens.push({ kind: 'datetime', text: m[0], position: i }); i += m[0].length; continue; }
    m = DATE.exec(rest);
    if (m) { tokens.push({ kind: 'date', text: m[0], position: i }); i += m[0].length; continue; }
    m = NUMBER.exec(rest);
    if (m) { tokens.push({ kind: 'number', text: m[0], position: i }); i += m[0].length; continue; }
    m = IDENT.exec(rest);
    if (m) { tokens.push({ kind: 'ident', text: m[0], position: i }); i += m[0].length; continue; }
    const op = OPERATORS.find((o) => rest.startsWith(o));
    if (op) { tokens.push({ kind: 'op', text: op, position: i }); i += op.length; continue; }
    if (ch === '-' || ch === '+') { tokens.push({ kind: 'op', text: ch, position: i }); i++; continue; }
    if (ch === '(' || ch === ')' || ch === ',' || ch === '.' || ch === ':') {
      tokens.push({ kind: ch, text: ch, position: i });
      i++;
      continue;
    }
    throw new SoqlError('MALFORMED_QUERY', located(text, i, `unexpected token: '${ch}'`), i);
  }
  tokens.push({ kind: 'eof', text: '<EOF>', position: text.length });
  return tokens;
}
