import type { Connection } from 'jsforce';
import type { RecordBody } from './records.ts';

/** One record's result in an sObject Collections answer (errors carry `statusCode`). */
export interface SaveResultLike {
  success: boolean;
  id?: string | null;
  created?: boolean;
  errors: unknown[];
}

/** The writes the sink makes, through jsforce, with loose record types (bodies are built from commands). */
export interface WriteApi {
  /** PATCH /composite/sobjects/{T}/{extField} */
  upsert(sobject: string, records: RecordBody[], extIdField: string): Promise<SaveResultLike[]>;
  /** POST /composite/sobjects */
  create(sobject: string, records: RecordBody[]): Promise<SaveResultLike[]>;
  /** PATCH /composite/sobjects (records carry Id) */
  update(sobject: string, records: RecordBody[]): Promise<SaveResultLike[]>;
  /** DELETE /composite/sobjects?ids= */
  destroy(sobject: string, ids: string[]): Promise<SaveResultLike[]>;
}

type LooseDml = {
  upsert(type: string, records: RecordBody[], extIdField: string, options: { allOrNone: boolean }): Promise<SaveResultLike[]>;
  create(type: string, records: RecordBody[], options: { allOrNone: boolean }): Promise<SaveResultLike[]>;
  update(type: string, records: RecordBody[], options: { allOrNone: boolean }): Promise<SaveResultLike[]>;
  destroy(type: string, ids: string[], options: { allOrNone: boolean }): Promise<SaveResultLike[]>;
};

export function writeApi(conn: Connection): WriteApi {
  const dml = conn as unknown as LooseDml;
  const opts = { allOrNone: false };
  return {
    upsert: (sobject, records, extIdField) => dml.upsert(sobject, records, extIdField, opts),
    create: (sobject, records) => dml.create(sobject, records.map((r) => ({ ...r, attributes: { type: sobject } })), opts),
    update: (sobject, records) => dml.update(sobject, records.map((r) => ({ ...r, attributes: { type: sobject } })), opts),
    destroy: (sobject, ids) => dml.destroy(sobject, ids, opts),
  };
}

type RequestOptions = Parameters<Connection['request']>[1];

/**
 * The connection as the sink uses it: each HTTP request it makes through it (sObject Collections,
 * SOQL lookups) is aborted by jsforce after `timeoutMs` without an answer, which closes the
 * connection, so a timed-out write never runs on beside its retry (the sink's call guard waits a
 * little longer, see ABORT_GRACE_MS). jsforce's own retries are off: the sink's call policy
 * retries, and counts each attempt. The shared connection itself is left as it is.
 */
export function withRequestTimeout(conn: Connection, timeoutMs: number): Connection {
  const request = (req: Parameters<Connection['request']>[0], options: RequestOptions = {}) =>
    conn.request(req, { timeout: timeoutMs, retry: { maxRetries: 0 }, ...options } as RequestOptions);
  return new Proxy(conn, { get: (target, prop, receiver) => (prop === 'request' ? request : Reflect.get(target, prop, receiver)) });
}
