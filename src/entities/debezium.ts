/**
 * Reads a Debezium PostgreSQL change event (JSON converter, with or without the schema wrapper) into what
 * a canonical change needs: the row image, the op, a source position unique per row change, the source
 * transaction id and the commit time.
 */
export interface DebeziumSource {
  lsn?: number | string | null;
  txId?: number | string | null;
  ts_ms?: number;
  schema?: string;
  table?: string;
  snapshot?: string | boolean;
}
export interface DebeziumEnvelope {
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
  source: DebeziumSource;
  op: 'c' | 'u' | 'd' | 'r' | 't' | 'm';
  ts_ms?: number;
}

export interface ShopRowChange {
  op: 'UPSERT' | 'DELETE';
  /** The after image (UPSERT) or the before image (DELETE; needs REPLICA IDENTITY FULL for all columns). */
  row: Record<string, unknown>;
  table: string;
  /** "pg:<lsn>:<schema>.<table>:<row id>": snapshot rows share one LSN, so the row id is part of it. */
  sourcePosition: string;
  transactionId: string;
  eventTime: number;
  snapshot: boolean;
  /** The row's `version` column, for the shop sink's guard. */
  sourceVersion: number | null;
}

export class DebeziumEventError extends Error {}

/** The envelope of a change event, with or without the JSON converter's schema wrapper. */
function envelopeOf(value: unknown): DebeziumEnvelope {
  const raw = value as Record<string, unknown>;
  return (raw.payload && typeof raw.payload === 'object' && 'schema' in raw ? raw.payload : raw) as DebeziumEnvelope;
}

function transactionIdOf(env: DebeziumEnvelope): string {
  const lsn = env.source.lsn ?? 'none';
  return env.source.txId === null || env.source.txId === undefined ? `lsn:${lsn}` : String(env.source.txId);
}

/** The source transaction id of a change event (as ShopRowChange.transactionId), or null when it is none. */
export function debeziumTransactionId(value: unknown): string | null {
  if (value === null || typeof value !== 'object') return null;
  const env = envelopeOf(value);
  return env.source && typeof env.op === 'string' ? transactionIdOf(env) : null;
}

/** Null for tombstones, truncates and logical messages (nothing to sync). */
export function readDebeziumEvent(value: unknown, rowId: (row: Record<string, unknown>) => unknown = (r) => r.id): ShopRowChange | null {
  if (value === null || value === undefined) return null;
  const env = envelopeOf(value);
  if (!env.source || typeof env.op !== 'string') throw new DebeziumEventError('not a Debezium change event: source or op missing');
  if (env.op === 't' || env.op === 'm') return null;
  const deleted = env.op === 'd';
  const row = deleted ? env.before : env.after;
  if (!row) throw new DebeziumEventError(`Debezium ${env.op} event without its ${deleted ? 'before' : 'after'} image (${env.source.schema}.${env.source.table})`);
  const table = `${env.source.schema ?? 'public'}.${env.source.table ?? '?'}`;
  const lsn = env.source.lsn ?? 'none';
  const version = row.version;
  return {
    op: deleted ? 'DELETE' : 'UPSERT',
    row,
    table,
    sourcePosition: `pg:${lsn}:${table}:${String(rowId(row) ?? '')}`,
    transactionId: transactionIdOf(env),
    eventTime: env.source.ts_ms ?? env.ts_ms ?? 0,
    snapshot: env.op === 'r' || (env.source.snapshot !== undefined && env.source.snapshot !== false && env.source.snapshot !== 'false'),
    sourceVersion: typeof version === 'number' ? version : typeof version === 'string' && /^\d+$/.test(version) ? Number(version) : null,
  };
}
