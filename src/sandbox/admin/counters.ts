import type { WriteCallSummary } from '../store/store.ts';

/** The APIs the counters tell apart. */
export type ApiName = 'rest' | 'composite' | 'collections' | 'bulk' | 'query' | 'oauth' | 'soap' | 'cometd' | 'pubsub' | 'other';

/** One object's writes through one API. */
export interface WriteCount {
  /** Calls (REST calls, collections or composite calls, Bulk batches) that tried to write the object. */
  calls: number;
  /** Records those calls asked to create, update, upsert or delete, refused ones included. */
  received: number;
  /** Records written and committed. */
  written: number;
}

export interface CounterSnapshot {
  /** Every call by API, the ones a fault answered included. */
  byApi: Record<string, number>;
  /** API calls that touched each object (a collections call of 200 Accounts counts 1). */
  byObject: Record<string, number>;
  /** Records written per object (created, updated or deleted), whatever the API. */
  recordsByObject: Record<string, number>;
  /** Write calls and records by API, then by object: `writesByApi.collections.Account.written`. */
  writesByApi: Record<string, Record<string, WriteCount>>;
  since: string;
  /** Data API calls whose client closed the connection before the answer (it gave up waiting). */
  abandoned: number;
  /** The CDC hub's own counters (events published/delivered, keepalives, resets...). */
  cdc?: Record<string, number>;
}

/** Counts every call by API and by object: benchmarks read API calls per record from here. */
export class Counters {
  private byApi = new Map<string, number>();
  private byObject = new Map<string, number>();
  private recordsByObject = new Map<string, number>();
  private writes = new Map<string, Map<string, WriteCount>>();
  private since = Date.now();
  private abandonedCalls = 0;

  api(name: ApiName): void {
    this.byApi.set(name, (this.byApi.get(name) ?? 0) + 1);
  }

  object(name: string): void {
    this.byObject.set(name, (this.byObject.get(name) ?? 0) + 1);
  }

  /** A client closed the connection before its call was answered. */
  abandoned(): void {
    this.abandonedCalls += 1;
  }

  /** One API call's writes (the store reports each API transaction that tried to write). */
  writeCall(call: WriteCallSummary): void {
    let byObject = this.writes.get(call.api);
    if (!byObject) this.writes.set(call.api, (byObject = new Map()));
    for (const [object, { received, written }] of call.objects) {
      const count = byObject.get(object) ?? { calls: 0, received: 0, written: 0 };
      byObject.set(object, { calls: count.calls + 1, received: count.received + received, written: count.written + written });
      if (written > 0) this.recordsByObject.set(object, (this.recordsByObject.get(object) ?? 0) + written);
    }
  }

  /** extra: counters kept elsewhere (CDC hub: cometd, pubsub), added to byApi. */
  snapshot(extra: Record<string, number> = {}): CounterSnapshot {
    const byApi = Object.fromEntries(this.byApi);
    for (const [k, v] of Object.entries(extra)) byApi[k] = (byApi[k] ?? 0) + v;
    return {
      byApi,
      byObject: Object.fromEntries(this.byObject),
      recordsByObject: Object.fromEntries(this.recordsByObject),
      writesByApi: Object.fromEntries([...this.writes].map(([api, objects]) => [api, Object.fromEntries([...objects].map(([o, c]) => [o, { ...c }]))])),
      since: new Date(this.since).toISOString(),
      abandoned: this.abandonedCalls,
    };
  }

  reset(): void {
    this.byApi.clear();
    this.byObject.clear();
    this.recordsByObject.clear();
    this.writes.clear();
    this.abandonedCalls = 0;
    this.since = Date.now();
  }
}
