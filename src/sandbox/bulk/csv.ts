import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';

export const COLUMN_DELIMITERS = {
  COMMA: ',', TAB: '\t', PIPE: '|', SEMICOLON: ';', CARET: '^', BACKQUOTE: '`',
} as const;
export type ColumnDelimiter = keyof typeof COLUMN_DELIMITERS;
export type LineEnding = 'LF' | 'CRLF';

/** What Bulk API 2.0 writes for "set this field to null". */
export const NULL_MARKER = '#N/A';

export interface CsvFormat {
  columnDelimiter: ColumnDelimiter;
  lineEnding: LineEnding;
}

export interface ParsedCsv {
  header: string[];
  rows: string[][];
}

/** Parses one uploaded CSV (header row first). Throws with the line number on malformed input. */
export function parseCsv(text: string, format: CsvFormat): ParsedCsv {
  const records = parse(text, {
    delimiter: COLUMN_DELIMITERS[format.columnDelimiter],
    bom: true,
    skip_empty_lines: true,
    relax_column_count: false,
  }) as string[][];
  const [header = [], ...rows] = records;
  return { header: header.map((name) => name.trim()), rows };
}

/** Writes rows as Salesforce does: every value quoted, nulls empty. */
export function toCsv(header: string[], rows: unknown[][], format: CsvFormat): string {
  return stringify([header, ...rows.map((row) => row.map(csvValue))], {
    delimiter: COLUMN_DELIMITERS[format.columnDelimiter],
    record_delimiter: format.lineEnding === 'CRLF' ? '\r\n' : '\n',
    quoted: true,
    quoted_empty: false,
  });
}

function csvValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
