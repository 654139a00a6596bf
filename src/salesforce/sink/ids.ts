import type { Connection } from 'jsforce';
import { callSalesforce, type CallPolicy } from './call.ts';
import { recordKey } from './keys.ts';
import { Lru } from './lru.ts';
import { inChunks, soqlString } from './soql.ts';
import type { ParentRef } from './types.ts';

/** External id → Salesforce id, learned from upsert results and, for the rest, one SOQL per object. */
export class IdResolver {
  private readonly cache: Lru<string>;

  constructor(private readonly conn: Connection, private readonly policy: CallPolicy, size: number) {
    this.cache = new Lru(size);
  }

  remember(ref: ParentRef, id: string): void {
    this.cache.set(recordKey(ref), id);
  }

  /** True when the record is known to exist (written or resolved here). */
  known(ref: ParentRef): boolean {
    return this.cache.get(recordKey(ref)) !== undefined;
  }

  forget(ref: ParentRef): void {
    this.cache.delete(recordKey(ref));
  }

  /** Ids of the records (missing ones absent from the map), by record key. */
  async resolve(refs: ParentRef[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const todo = new Map<string, ParentRef[]>();
    for (const ref of refs) {
      const hit = this.cache.get(recordKey(ref));
      if (hit) { out.set(recordKey(ref), hit); continue; }
      const group = `${ref.sobject}\u0001${ref.externalIdField}`;
      todo.set(group, [...(todo.get(group) ?? []), ref]);
    }
    for (const group of todo.values()) {
      const { sobject, externalIdField } = group[0]!;
      for (const chunk of inChunks([...new Set(group.map((r) => r.externalId))])) {
        const soql = `SELECT Id, ${externalIdField} FROM ${sobject} WHERE ${externalIdField} IN (${chunk.map(soqlString).join(', ')})`;
        const res = await callSalesforce(this.policy, { api: 'query', sobject, operation: 'resolve-ids' },
          () => this.conn.query<Record<string, unknown>>(soql).run({ autoFetch: true, maxFetch: 10_000 }));
        for (const rec of res.records) {
          const ref = { sobject, externalIdField, externalId: String(rec[externalIdField]) };
          this.cache.set(recordKey(ref), String(rec.Id));
          out.set(recordKey(ref), String(rec.Id));
        }
      }
    }
    return out;
  }
}
