import type { Connection } from 'jsforce';
import { normalizeRecord, type ObjectFields } from './field-types.ts';

/** sObject Collections retrieve takes up to 2000 ids; 200 keeps each call small. */
const RETRIEVE_CHUNK = 200;

export interface RestReader {
  /** Current records by id (null = not found / deleted), fetched in batches. */
  retrieve(fields: ObjectFields, ids: string[]): Promise<Map<string, Record<string, unknown> | null>>;
  /** Records with LastModifiedDate >= since (epoch ms), oldest first. */
  changedSince(fields: ObjectFields, sinceMs: number): Promise<Record<string, unknown>[]>;
}

/** SOQL datetime literal (seconds precision, rounded down so nothing at the boundary is missed). */
export function soqlDateTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export function createRestReader(conn: Connection, onCall: (object: string, kind: 'retrieve' | 'query', records: number) => void): RestReader {
  return {
    async retrieve(fields, ids) {
      const out = new Map<string, Record<string, unknown> | null>();
      const unique = [...new Set(ids)];
      for (let i = 0; i < unique.length; i += RETRIEVE_CHUNK) {
        const chunk = unique.slice(i, i + RETRIEVE_CHUNK);
        let rows: unknown[];
        try {
          rows = await conn.sobject(fields.object).retrieve(chunk, { fields: fields.names }) as unknown[];
        } catch (err) {
          throw new Error(`REST retrieve of ${chunk.length} ${fields.object} record(s) (${chunk.slice(0, 3).join(', ')}...) failed: ${(err as Error).message}`, { cause: err });
        }
        onCall(fields.object, 'retrieve', chunk.length);
        chunk.forEach((id, j) => {
          const row = rows[j] as Record<string, unknown> | null | undefined;
          out.set(id, row && typeof row === 'object' && row.Id ? normalizeRecord(fields, row) : null);
        });
      }
      return out;
    },

    async changedSince(fields, sinceMs) {
      const soql = `SELECT ${fields.names.join(', ')} FROM ${fields.object} WHERE LastModifiedDate >= ${soqlDateTime(sinceMs)} ORDER BY LastModifiedDate ASC`;
      const records: Record<string, unknown>[] = [];
      try {
        let res = await conn.query<Record<string, unknown>>(soql);
        for (;;) {
          onCall(fields.object, 'query', res.records.length);
          for (const r of res.records) records.push(normalizeRecord(fields, r));
          if (res.done || !res.nextRecordsUrl) break;
          res = await conn.queryMore<Record<string, unknown>>(res.nextRecordsUrl);
        }
      } catch (err) {
        throw new Error(`SOQL re-read of ${fields.object} changed since ${soqlDateTime(sinceMs)} failed: ${(err as Error).message}`, { cause: err });
      }
      return records;
    },
  };
}
