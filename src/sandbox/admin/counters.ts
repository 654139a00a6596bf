/** The APIs the counters tell apart. */
export type ApiName = 'rest' | 'composite' | 'collections' | 'bulk' | 'query' | 'oauth' | 'soap' | 'cometd' | 'pubsub' | 'other';

export interface CounterSnapshot {
  byApi: Record<string, number>;
  /** API calls that touched each object (a collections call of 200 Accounts counts 1). */
  byObject: Record<string, number>;
  /** Records written per object (created, updated or deleted). */
  recordsByObject: Record<string, number>;
  since: string;
  /** The CDC hub's own counters (events published/delivered, keepalives, resets...). */
  cdc?: Record<string, number>;
}

/** Counts every call by API and by object: benchmarks read API calls per record from here. */
export class Counters {
  private byApi = new Map<string, number>();
  private byObject = new Map<string, number>();
  private recordsByObject = new Map<string, number>();
  private since = Date.now();

  api(name: ApiName): void {
    this.byApi.set(name, (this.byApi.get(name) ?? 0) + 1);
  }

  object(name: string): void {
    this.byObject.set(name, (this.byObject.get(name) ?? 0) + 1);
  }

  records(name: string, n: number): void {
    if (n > 0) this.recordsByObject.set(name, (this.recordsByObject.get(name) ?? 0) + n);
  }

  /** extra: counters kept elsewhere (CDC hub: cometd, pubsub), added to byApi. */
  snapshot(extra: Record<string, number> = {}): CounterSnapshot {
    const byApi = Object.fromEntries(this.byApi);
    for (const [k, v] of Object.entries(extra)) byApi[k] = (byApi[k] ?? 0) + v;
    return {
      byApi,
      byObject: Object.fromEntries(this.byObject),
      recordsByObject: Object.fromEntries(this.recordsByObject),
      since: new Date(this.since).toISOString(),
    };
  }

  reset(): void {
    this.byApi.clear();
    this.byObject.clear();
    this.recordsByObject.clear();
    this.since = Date.now();
  }
}
