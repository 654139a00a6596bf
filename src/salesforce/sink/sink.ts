import type { SalesforceWrite } from '../../entities/types.ts';
import { createLogger, type Logger } from '../../observability/logger.ts';
import { withRequestTimeout, writeApi, type SaveResultLike, type WriteApi } from './api.ts';
import { bulkUpsert } from './bulk.ts';
import { ABORT_GRACE_MS, callSalesforce, type CallLabel, type CallPolicy } from './call.ts';
import { absorb, newEntry, settle, type Entry, type Slot } from './entries.ts';
import { classify, errorInfo, missingParent, recordError, SinkCallError } from './errors.ts';
import { IdResolver } from './ids.ts';
import { recordKey } from './keys.ts';
import { Lru } from './lru.ts';
import { sinkMetrics, type SinkMetrics } from './metrics.ts';
import { parentFirstLevels } from './order.ts';
import { pricebookKey, PricebookResolver } from './pricebook.ts';
import { QuotaGuard } from './quota.ts';
import { CallSlots } from './slots.ts';
import { signature, unchanged, upsertBody, withoutFields, type RecordBody } from './records.ts';
import {
  DEFAULT_TUNING, type ParentRef, type SalesforceErrorInfo, type SalesforceSink, type SinkConfig, type SinkOptions,
  type SinkTuning, type WriteOutcome,
} from './types.ts';

/** How one record goes out: upsert by external id, or (PricebookEntry by product) update by Id / create. */
type Kind = 'upsert' | 'update' | 'create';

interface Item {
  entry: Entry;
  body: RecordBody;
  kind: Kind;
}

/** The update of an existing price book entry (by its Salesforce id) that `cmd` writes. */
function entryUpdate(cmd: SalesforceWrite, id: string): RecordBody {
  return { Id: id, ...upsertBody({ ...cmd, externalIdField: 'Id' }) };
}

/** Per-flush figures (benchmarks, logs). Flushes overlap: `apiCalls` counts the calls any flush made while this one ran. */
export interface FlushStats {
  records: number;
  apiCalls: number;
  durationMs: number;
}

export interface CreateSinkOptions extends SinkOptions {
  /** Called after each flush. */
  onFlush?: (stats: FlushStats) => void;
  /** Product2 external id field used to find PricebookEntries by SKU. */
  productSkuField?: string;
  /** PricebookEntry field holding the currency, when entries differ by currency (e.g. CurrencyIsoCode). */
  pricebookCurrencyField?: string;
}

const NOT_THERE = new Set(['ENTITY_IS_DELETED', 'INVALID_CROSS_REFERENCE_KEY', 'NOT_FOUND']);

class Sink implements SalesforceSink {
  private pending = new Map<string, Entry>();
  private pendingPerObject = new Map<string, number>();
  private readonly parkedEntries = new Map<string, Entry>();
  /**
   * The parked entries by the record they wait for (recordKey of the parent), so that a record landing
   * finds its children at once instead of looking through every parked entry: a burst parks thousands
   * of line items and lands thousands of records. Kept with parkedEntries by park() and unpark().
   */
  private readonly parkedByParent = new Map<string, Set<Entry>>();
  private readonly written: Lru<Map<string, string>>;
  private readonly ids: IdResolver;
  private readonly pricebook: PricebookResolver;
  private readonly quota: QuotaGuard;
  private readonly policy: CallPolicy;
  private readonly api: WriteApi;
  private readonly metrics?: SinkMetrics;
  private readonly log: Logger;
  private readonly cfg: SinkConfig;
  private readonly tuning: SinkTuning;
  private readonly skuField: string;
  private lingerTimer?: NodeJS.Timeout;
  private parkedTimer?: NodeJS.Timeout;
  /**
   * Flushes run side by side (pipelined): each takes the pending records that no flush in flight is
   * writing and whose parents none is writing either; the others wait for the next one.
   */
  private readonly flights = new Set<Promise<void>>();
  /** Records (recordKey) being written by a flush in flight. */
  private readonly busyKeys = new Set<string>();
  /** The quota throttle spaces flushes one after the other, even though they overlap. */
  private throttleChain: Promise<void> = Promise.resolve();
  /** A linger window ended while every call slot was taken: flush once a call ends (fuller batches). */
  private flushWhenFree = false;
  private readonly slots: CallSlots;
  private closed = false;
  private callsMade = 0;
  private readonly outstanding = new Set<Promise<WriteOutcome[]>>();

  constructor(private readonly opts: CreateSinkOptions) {
    this.cfg = opts.config;
    this.tuning = { ...DEFAULT_TUNING, ...opts.tuning };
    this.log = opts.logger ?? createLogger('salesforce.sink');
    this.metrics = opts.registry ? sinkMetrics(opts.registry) : undefined;
    this.skuField = opts.productSkuField ?? 'Sku__c';
    this.quota = new QuotaGuard(opts.conn, {
      reservePercent: this.cfg.quotaReservePercent,
      throttleMaxDelayMs: this.tuning.throttleMaxDelayMs,
      probeIntervalMs: this.tuning.quotaProbeIntervalMs,
    }, this.log);
    const counting = this.metrics;
    this.policy = {
      quota: this.quota,
      metrics: counting,
      log: this.log,
      maxRetries: this.cfg.maxRetries,
      minDelayMs: this.tuning.retryMinDelayMs,
      maxDelayMs: this.tuning.retryMaxDelayMs,
      timeoutMs: this.tuning.requestTimeoutMs,
    };
    this.written = new Lru(this.tuning.writtenCacheSize, this.tuning.writtenCacheTtlMs);
    this.slots = new CallSlots({ limit: this.cfg.callsInFlight, maxLongRequests: this.tuning.maxLongRequests, slowCallMs: this.tuning.slowCallMs });
    // its writes and lookups are aborted when they time out (not Bulk jobs: their polls are many short requests)
    const timed = withRequestTimeout(opts.conn, this.tuning.requestTimeoutMs);
    this.ids = new IdResolver(timed, this.policy, this.tuning.idCacheSize);
    this.pricebook = new PricebookResolver(timed, this.policy, this.tuning.idCacheSize, this.skuField, opts.pricebookCurrencyField);
    this.api = writeApi(timed);
  }

  // ---- public API ----

  write(commands: SalesforceWrite[]): Promise<WriteOutcome[]> {
    const promises = commands.map((command) => new Promise<WriteOutcome>((resolve) => {
      const slot: Slot = { command, done: false, resolve };
      if (this.closed) return this.deliver(slot, this.retryable(command, { errorCode: 'SINK_CLOSED', message: 'the Salesforce sink is closed', fields: [] }, 0));
      const invalid = validate(command);
      if (invalid) return this.deliver(slot, { status: 'failed', command, error: invalid, reason: `${invalid.errorCode}: ${invalid.message}` });
      this.enqueue(newEntry(slot));
    }));
    this.schedule();
    const all = Promise.all(promises);
    this.outstanding.add(all);
    void all.finally(() => this.outstanding.delete(all));
    return all;
  }

  async drain(): Promise<void> {
    const waiting = [...this.outstanding];
    await this.flush();
    await Promise.all(waiting);
  }

  async flush(): Promise<void> {
    this.clearLinger();
    const mine = new Set(this.pending.values());
    const ours: Array<Promise<void>> = [];
    for (;;) {
      ours.push(this.runFlush());
      // records another flush is writing (or whose parent it is writing) go once it has ended
      if (![...mine].some((e) => this.pending.get(e.key) === e) || this.flights.size === 0) break;
      await Promise.race(this.flights);
    }
    await Promise.all(ours);
  }

  parked(): SalesforceWrite[] {
    return [...this.parkedEntries.values()].map((e) => e.command);
  }

  abandon(commandId: string): boolean {
    for (const e of this.parkedEntries.values()) {
      if (e.slots.at(-1)?.command.commandId !== commandId) continue;
      this.unpark(e);
      this.metrics?.parked.set(this.parkedEntries.size);
      this.log.info({ sobject: e.command.sobject, externalId: e.command.externalId }, 'parked child let go: its caller no longer owns it');
      return true;
    }
    return false;
  }

  quotaState() {
    return this.quota.state();
  }

  forget(sobject: string, externalIdField: string, externalId: string): void {
    this.written.delete(recordKey({ sobject, externalIdField, externalId }));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.quota.wake();
    this.clearLinger();
    if (this.parkedTimer) clearInterval(this.parkedTimer);
    this.parkedTimer = undefined;
    if (this.quota.state().mode === 'exhausted') this.quota.close();
    await this.flush();
    while (this.flights.size > 0) await Promise.all(this.flights);
    this.quota.close();
    for (const entry of this.parkedEntries.values()) {
      settle(entry, this.deliver, (c) => this.retryable(c, { errorCode: 'SINK_CLOSED', message: `closed while waiting for parent ${entry.parent?.sobject} ${entry.parent?.externalId}`, fields: [] }, 0));
    }
    this.parkedEntries.clear();
    this.parkedByParent.clear();
    this.metrics?.parked.set(0);
  }

  // ---- buffering ----

  private enqueue(entry: Entry): void {
    const inPending = this.pending.get(entry.key);
    const existing = inPending ?? this.takeParked(entry.key);
    if (existing) {
      this.metrics?.callsSaved.inc({ reason: 'coalesced' }, entry.slots.length);
      absorb(existing, entry);
      this.pending.set(existing.key, existing);
    } else {
      this.pending.set(entry.key, entry);
    }
    if (!inPending) {
      const sobject = entry.command.sobject;
      this.pendingPerObject.set(sobject, (this.pendingPerObject.get(sobject) ?? 0) + 1);
    }
  }

  private takeParked(key: string): Entry | undefined {
    const e = this.parkedEntries.get(key);
    if (e) this.unpark(e);
    return e;
  }

  /**
   * Linger, or flush at once when one object has more pending records than the bulk threshold. A
   * linger window that ends while every call slot is taken waits for a call to end: the records
   * arriving meanwhile join the same calls instead of queueing as small ones.
   */
  private schedule(): void {
    if (this.pending.size === 0 && ![...this.parkedEntries.values()].some((e) => e.released)) return;
    const big = [...this.pendingPerObject.values()].some((n) => n > this.cfg.bulkThreshold);
    if (big) {
      this.clearLinger();
      void this.runFlush();
    } else if (!this.lingerTimer && !this.flushWhenFree) {
      this.lingerTimer = setTimeout(() => {
        this.lingerTimer = undefined;
        if (this.slots.canStart() || this.closed) {
          void this.runFlush();
          return;
        }
        this.flushWhenFree = true;
        this.slots.whenFree(() => {
          this.flushWhenFree = false;
          void this.runFlush();
        });
      }, this.cfg.lingerMs);
    }
  }

  private clearLinger(): void {
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
  }

  /** Starts a flush of what can go now (see take) beside those in flight; resolves when it has ended. */
  private runFlush(): Promise<void> {
    const batch = this.take();
    if (!batch) return Promise.resolve();
    const keys = batch.map((e) => e.key);
    for (const k of keys) this.busyKeys.add(k);
    const flight: Promise<void> = this.doFlush(batch)
      .catch((err: unknown) => {
        this.log.error({ err }, 'Salesforce sink flush failed');
      })
      .finally(() => {
        for (const k of keys) this.busyKeys.delete(k);
        this.flights.delete(flight);
        if (this.pending.size > 0 || [...this.parkedEntries.values()].some((e) => e.released)) this.schedule();
      });
    this.flights.add(flight);
    return flight;
  }

  // ---- flushing ----

  /** Parents a command needs (its lookups, the product of its price book entry), as record keys. */
  private parentKeys(cmd: SalesforceWrite): string[] {
    const keys = cmd.references.map((r) => recordKey(r));
    if (cmd.pricebookEntry) keys.push(recordKey({ sobject: 'Product2', externalIdField: this.skuField, externalId: cmd.pricebookEntry.sku }));
    return keys;
  }

  /** A record a flush in flight is writing, or one of its parents: it waits, so writes of one record keep their order and children follow their parents. */
  private waitsForFlight(e: Entry): boolean {
    return this.busyKeys.has(e.key) || this.parentKeys(e.command).some((k) => this.busyKeys.has(k));
  }

  /**
   * Takes the pending records and due parked children that can go now. A delete waits until no flush
   * is in flight and then goes with everything pending, children deleted before their parents, as
   * when flushes ran one at a time.
   */
  private take(): Entry[] | undefined {
    const now = Date.now();
    const due = [...this.parkedEntries.values()].filter((e) => e.released || now - (e.lastTry ?? 0) >= this.tuning.parkedRetryMs
      || now - (e.parkedSince ?? now) >= this.cfg.parentTimeoutMs);
    if (this.pending.size === 0 && due.length === 0) return undefined;
    const exclusive = [...this.pending.values()].some((e) => e.command.operation === 'DELETE');
    if (exclusive && this.flights.size > 0) return undefined;
    const batch: Entry[] = [];
    for (const e of [...this.pending.values()]) {
      if (this.waitsForFlight(e)) continue;
      batch.push(e);
      this.pending.delete(e.key);
      const left = (this.pendingPerObject.get(e.command.sobject) ?? 1) - 1;
      if (left > 0) this.pendingPerObject.set(e.command.sobject, left);
      else this.pendingPerObject.delete(e.command.sobject);
    }
    for (const e of due) {
      if (this.waitsForFlight(e)) continue;
      this.unpark(e);
      if (Date.now() - (e.parkedSince ?? Date.now()) >= this.cfg.parentTimeoutMs) {
        this.parentNeverArrived(e);
        continue;
      }
      e.released = false;
      batch.push(e);
    }
    return batch.length > 0 ? batch : undefined;
  }

  private async doFlush(batch: Entry[]): Promise<void> {
    if (!this.closed) {
      const turn = this.throttleChain.then(() => this.quota.throttle());
      this.throttleChain = turn.catch(() => undefined);
      await turn;
    }
    const started = performance.now();
    const callsBefore = this.callsMade;
    const upserts: Entry[] = [];
    const deletes: Entry[] = [];
    for (const e of batch) {
      if (e.command.operation === 'DELETE') { deletes.push(e); continue; }
      // a re-asserted master value is sent even if we wrote the same before: the record changed since
      if (!e.command.reassert && unchanged(this.written.get(e.key), signature(e.command))) {
        this.metrics?.callsSaved.inc({ reason: 'skipped' });
        settle(e, this.deliver, (command) => ({ status: 'skipped', command, reason: 'unchanged' }));
        continue;
      }
      upserts.push(e);
    }
    for (const level of parentFirstLevels(upserts, (e) => e.command)) await this.writeLevel(level);
    for (const level of parentFirstLevels(deletes, (e) => e.command).reverse()) await this.deleteLevel(level);
    this.metrics?.parked.set(this.parkedEntries.size);
    const durationMs = performance.now() - started;
    this.metrics?.flushSeconds.observe(durationMs / 1000);
    const rem = this.quota.state().remainingPercent;
    if (rem !== undefined) this.metrics?.quotaRemaining.set(rem);
    this.opts.onFlush?.({ records: batch.length, apiCalls: this.callsMade - callsBefore, durationMs });
  }

  /** Resolves price book entries, builds bodies and writes one level of objects (objects in parallel). */
  private async writeLevel(entries: Entry[]): Promise<void> {
    const needPbe = entries.filter((e) => e.command.pricebookEntry);
    let pbeIds = new Map<string, string>();
    if (needPbe.length) {
      try {
        pbeIds = await this.pricebook.resolve(needPbe.map((e) => e.command.pricebookEntry!));
      } catch (err) {
        const info = err instanceof SinkCallError ? err.info : errorInfo(err);
        for (const e of needPbe) this.fail(e, info, this.cfg.maxRetries + 1);
        entries = entries.filter((e) => !e.command.pricebookEntry);
      }
    }
    const groups = new Map<string, { kind: Kind; sobject: string; extField: string; items: Item[] }>();
    const add = (kind: Kind, entry: Entry, body: RecordBody) => {
      const extField = kind === 'upsert' ? entry.command.externalIdField : 'Id';
      const key = `${kind}\u0001${entry.command.sobject}\u0001${extField}`;
      const g = groups.get(key) ?? { kind, sobject: entry.command.sobject, extField, items: [] };
      g.items.push({ entry, body, kind });
      groups.set(key, g);
    };
    for (const entry of entries) {
      const cmd = entry.command;
      try {
        const pbe = cmd.pricebookEntry;
        if (!pbe) { add('upsert', entry, this.forExisting(cmd, upsertBody(cmd))); continue; }
        const pbeId = pbeIds.get(pricebookKey(pbe));
        if (pbe.field === 'Id') {
          if (pbeId) { add('update', entry, entryUpdate(cmd, pbeId)); continue; }
          const bookId = await this.pricebook.pricebookId(pbe.pricebook);
          if (!bookId) {
            this.fail(entry, { errorCode: 'PRICEBOOK_NOT_FOUND', message: `price book "${pbe.pricebook}" not found`, fields: ['Pricebook2Id'] }, 1);
            continue;
          }
          add('create', entry, { ...upsertBody({ ...cmd, externalIdField: 'Id' }), Pricebook2Id: bookId, Product2: { [this.skuField]: pbe.sku } });
          continue;
        }
        if (!pbeId) {
          this.park(entry, { sobject: 'Product2', externalIdField: this.skuField, externalId: pbe.sku, label: `PricebookEntry for sku ${pbe.sku} (${pbe.pricebook} price book)` }, {
            errorCode: 'PRICEBOOK_ENTRY_NOT_FOUND', message: `no ${pbe.pricebook} price book entry for product ${pbe.sku}`, fields: [pbe.field],
          });
          continue;
        }
        add('upsert', entry, this.forExisting(cmd, upsertBody(cmd, pbeId)));
      } catch (err) {
        const info = err instanceof SinkCallError ? err.info : { errorCode: 'INVALID_COMMAND', message: (err as Error).message, fields: [] };
        this.fail(entry, info, 1);
      }
    }
    await Promise.all([...groups.values()].map((g) => this.writeGroup(g.kind, g.sobject, g.extField, g.items)));
  }

  /** A record known to exist gets no create-only lookups (Salesforce refuses to update them). */
  private forExisting(cmd: SalesforceWrite, body: RecordBody): RecordBody {
    if (!this.ids.known(cmd)) return body;
    return withoutFields(cmd, body, this.tuning.createOnlyFields[cmd.sobject] ?? []) ?? body;
  }

  /** After INVALID_FIELD_FOR_INSERT_UPDATE on a create-only lookup: the body without them, once. */
  private retryWithoutCreateOnly(item: Item, info: SalesforceErrorInfo): Item | undefined {
    if (info.errorCode !== 'INVALID_FIELD_FOR_INSERT_UPDATE' || item.kind !== 'upsert') return undefined;
    const createOnly = this.tuning.createOnlyFields[item.entry.command.sobject] ?? [];
    const named = createOnly.filter((f) => info.fields.includes(f) || info.message.includes(f));
    const body = withoutFields(item.entry.command, item.body, named);
    return body ? { ...item, body } : undefined;
  }

  private async writeGroup(kind: Kind, sobject: string, extField: string, items: Item[]): Promise<void> {
    if (kind === 'upsert' && items.length > this.cfg.bulkThreshold) {
      await this.writeBulk(sobject, extField, items);
      return;
    }
    // the chunks hold distinct keys of one object and one parent level: they may land in any order,
    // as many at once as the call slots (callsInFlight, shared with the other flushes in flight) allow
    const chunks: Item[][] = [];
    for (let i = 0; i < items.length; i += this.cfg.batchSize) chunks.push(items.slice(i, i + this.cfg.batchSize));
    await Promise.all(chunks.map((chunk) => this.writeCollection(kind, sobject, extField, chunk)));
  }

  private label(api: CallLabel['api'], sobject: string, operation: string): CallLabel {
    this.callsMade += 1;
    return { api, sobject, operation };
  }

  /** One sObject Collections call; records refused with a transient error (UNABLE_TO_LOCK_ROW) are re-sent with backoff. */
  private async writeCollection(kind: Kind, sobject: string, extField: string, items: Item[], attempt = 0): Promise<void> {
    let todo = items;
    for (let tries = attempt; todo.length > 0; tries++) {
      const bodies = todo.map((i) => i.body);
      let results: SaveResultLike[];
      try {
        results = await this.slots.run(() => callSalesforce(this.policy, this.label('collections', sobject, kind), () => {
          if (kind === 'upsert') return this.api.upsert(sobject, bodies, extField);
          if (kind === 'update') return this.api.update(sobject, bodies);
          return this.api.create(sobject, bodies);
        }, this.tuning.requestTimeoutMs + ABORT_GRACE_MS));
        if (!Array.isArray(results) || results.length !== todo.length) {
          throw new SinkCallError({ errorCode: 'UNEXPECTED_RESPONSE', message: `${sobject} ${kind}: ${todo.length} records sent, ${Array.isArray(results) ? results.length : 'no'} results`, fields: [] }, 'transient');
        }
      } catch (err) {
        const info = err instanceof SinkCallError ? err.info : errorInfo(err);
        if (todo.length > 1 && classify(info) === 'permanent') {
          // the whole call was refused for what is likely one record's content: halve until it is found
          const half = Math.ceil(todo.length / 2);
          this.log.warn({ sobject, records: todo.length, errorCode: info.errorCode }, 'call refused as a whole: splitting it to find the record');
          await this.writeCollection(kind, sobject, extField, todo.slice(0, half), tries);
          await this.writeCollection(kind, sobject, extField, todo.slice(half), tries);
          return;
        }
        const attempts = classify(info) === 'transient' ? this.cfg.maxRetries + 1 : 1;
        for (const item of todo) this.onRecordError(item.entry, info, attempts);
        return;
      }
      this.metrics?.recordsPerCall.observe({ api: 'collections' }, todo.length);
      const again: Item[] = [];
      const existing: Item[] = [];
      results.forEach((r, i) => {
        const item = todo[i]!;
        if (r.success && r.id) {
          this.applied(item.entry, r.id, r.created ?? kind === 'create', 'collections');
          return;
        }
        const info = recordError(r.errors?.[0]);
        const stripped = this.retryWithoutCreateOnly(item, info);
        if (kind === 'create' && info.errorCode === 'DUPLICATE_VALUE' && item.entry.command.pricebookEntry) {
          existing.push(item);
        } else if (stripped) {
          again.push(stripped);
        } else if (classify(info) === 'transient' && tries < this.cfg.maxRetries) {
          this.metrics?.retries.inc({ error_code: info.errorCode });
          again.push(item);
        } else {
          this.onRecordError(item.entry, info, tries + 1);
        }
      });
      if (existing.length > 0) await this.updateExistingEntries(sobject, existing);
      todo = again;
      if (todo.length > 0) {
        const delay = Math.min(this.tuning.retryMaxDelayMs, this.tuning.retryMinDelayMs * 2 ** tries) * (1 + Math.random());
        this.log.warn({ sobject, records: todo.length, attempt: tries + 1, errorCode: recordError(results.find((r) => !r.success)?.errors?.[0]).errorCode }, 'records refused with a transient error, retrying');
        await this.quota.sleep(delay);
      }
    }
  }

  /**
   * Price book entry creates refused with DUPLICATE_VALUE: the entry exists already, typically
   * because an earlier try of this very create landed and its answer was lost (a timeout, a crash
   * before the commit). PricebookEntry has no external id: its id is looked up by price book,
   * product and currency, and the write becomes an update, so a retry never makes a second entry.
   */
  private async updateExistingEntries(sobject: string, items: Item[]): Promise<void> {
    const refs = items.map((i) => i.entry.command.pricebookEntry!);
    let ids: Map<string, string>;
    try {
      for (const ref of refs) this.pricebook.forget(ref);
      ids = await this.pricebook.resolve(refs);
    } catch (err) {
      const info = err instanceof SinkCallError ? err.info : errorInfo(err);
      for (const i of items) this.onRecordError(i.entry, info, this.cfg.maxRetries + 1);
      return;
    }
    const updates: Item[] = [];
    for (const item of items) {
      const id = ids.get(pricebookKey(item.entry.command.pricebookEntry!));
      if (id) updates.push({ entry: item.entry, kind: 'update', body: entryUpdate(item.entry.command, id) });
      else this.onRecordError(item.entry, { errorCode: 'DUPLICATE_VALUE', message: 'the price book entry exists but was not found by product and currency', fields: [] }, 1);
    }
    this.log.info({ sobject, records: updates.length }, 'price book entries existed already (an earlier try landed): updating them');
    if (updates.length > 0) await this.writeCollection('update', sobject, 'Id', updates);
  }

  /**
   * Records above the bulk threshold: up to `bulkJobsInFlight` Bulk API 2.0 jobs side by side, each of
   * more than `bulkThreshold` records (an org processes jobs in parallel; each takes at least one of
   * the org's daily Bulk batches), each job holding one call slot while it runs.
   */
  private async writeBulk(sobject: string, extField: string, items: Item[]): Promise<void> {
    const jobs = Math.max(1, Math.min(this.cfg.bulkJobsInFlight, Math.floor(items.length / (this.cfg.bulkThreshold + 1))));
    const size = Math.ceil(items.length / jobs);
    const parts: Item[][] = [];
    for (let i = 0; i < items.length; i += size) parts.push(items.slice(i, i + size));
    await Promise.all(parts.map((part) => this.writeBulkJob(sobject, extField, part)));
  }

  private async writeBulkJob(sobject: string, extField: string, items: Item[]): Promise<void> {
    let results;
    try {
      results = await this.slots.run(() => callSalesforce(this.policy, this.label('bulk', sobject, 'upsert'),
        () => bulkUpsert(this.opts.conn, sobject, extField, items.map((i) => i.body), {
          pollIntervalMs: this.tuning.bulkPollIntervalMs, pollTimeoutMs: this.tuning.bulkPollTimeoutMs,
        }), this.tuning.bulkPollTimeoutMs + this.tuning.requestTimeoutMs));
    } catch (err) {
      const info = err instanceof SinkCallError ? err.info : errorInfo(err);
      if (classify(info) !== 'permanent' && classify(info) !== 'parent-missing') {
        for (const item of items) this.onRecordError(item.entry, info, this.cfg.maxRetries + 1);
        return;
      }
      // the job as a whole was refused or failed: fall back to collections, which isolate bad records
      this.log.warn({ sobject, records: items.length, errorCode: info.errorCode, message: info.message }, 'Bulk API job failed: sending through sObject Collections');
      for (let i = 0; i < items.length; i += this.cfg.batchSize) {
        await this.writeCollection('upsert', sobject, extField, items.slice(i, i + this.cfg.batchSize));
      }
      return;
    }
    this.metrics?.recordsPerCall.observe({ api: 'bulk' }, items.length);
    const again: Item[] = [];
    results.forEach((r, i) => {
      const item = items[i]!;
      if (r.success) this.applied(item.entry, r.id, r.created, 'bulk');
      else if (classify(r.error) === 'transient') again.push(item);
      else this.onRecordError(item.entry, r.error, 1);
    });
    // rows refused with a transient error (locked rows, unprocessed) go again through collections
    for (let i = 0; i < again.length; i += this.cfg.batchSize) {
      await this.writeCollection('upsert', sobject, extField, again.slice(i, i + this.cfg.batchSize), 1);
    }
  }

  /** Deletes by Salesforce id: ids from the cache or one SOQL per object; absent records are skipped. */
  private async deleteLevel(entries: Entry[]): Promise<void> {
    const byObject = new Map<string, Array<{ entry: Entry; id: string }>>();
    const viaPricebook = entries.filter((e) => e.command.externalIdField === 'Id' && e.command.pricebookEntry);
    const viaExtId = entries.filter((e) => !viaPricebook.includes(e));
    let ids: Map<string, string>;
    let pbeIds = new Map<string, string>();
    try {
      ids = await this.ids.resolve(viaExtId.map((e) => e.command));
      if (viaPricebook.length) pbeIds = await this.pricebook.resolve(viaPricebook.map((e) => e.command.pricebookEntry!));
    } catch (err) {
      const info = err instanceof SinkCallError ? err.info : errorInfo(err);
      for (const e of entries) this.onRecordError(e, info, this.cfg.maxRetries + 1);
      return;
    }
    for (const entry of entries) {
      const id = viaPricebook.includes(entry) ? pbeIds.get(pricebookKey(entry.command.pricebookEntry!)) : ids.get(entry.key);
      if (!id) {
        this.forgetRecord(entry);
        settle(entry, this.deliver, (command) => ({ status: 'skipped', command, reason: 'not-found' }));
        continue;
      }
      const list = byObject.get(entry.command.sobject) ?? [];
      list.push({ entry, id });
      byObject.set(entry.command.sobject, list);
    }
    await Promise.all([...byObject].map(async ([sobject, list]) => {
      for (let i = 0; i < list.length; i += this.cfg.batchSize) await this.deleteChunk(sobject, list.slice(i, i + this.cfg.batchSize));
    }));
  }

  private async deleteChunk(sobject: string, items: Array<{ entry: Entry; id: string }>): Promise<void> {
    let todo = items;
    for (let tries = 0; todo.length > 0; tries++) {
      let results: SaveResultLike[];
      try {
        results = await this.slots.run(() => callSalesforce(this.policy, this.label('collections', sobject, 'delete'), () => this.api.destroy(sobject, todo.map((t) => t.id)), this.tuning.requestTimeoutMs + ABORT_GRACE_MS));
      } catch (err) {
        const info = err instanceof SinkCallError ? err.info : errorInfo(err);
        for (const t of todo) this.onRecordError(t.entry, info, this.cfg.maxRetries + 1);
        return;
      }
      const again: typeof todo = [];
      todo.forEach((t, i) => {
        const r = results[i];
        this.forgetRecord(t.entry);
        if (r?.success) {
          this.metrics?.outcomes.inc({ status: 'applied', sobject });
          settle(t.entry, this.deliver, (command) => ({ status: 'applied', command, id: t.id, created: false, api: 'collections' }));
          return;
        }
        const info = recordError(r?.errors?.[0]);
        if (NOT_THERE.has(info.errorCode)) {
          settle(t.entry, this.deliver, (command) => ({ status: 'skipped', command, reason: 'not-found', id: t.id }));
        } else if (classify(info) === 'transient' && tries < this.cfg.maxRetries) {
          again.push(t);
        } else {
          this.onRecordError(t.entry, info, tries + 1);
        }
      });
      todo = again;
      if (todo.length) await this.quota.sleep(Math.min(this.tuning.retryMaxDelayMs, this.tuning.retryMinDelayMs * 2 ** tries));
    }
  }

  // ---- outcomes ----

  private readonly deliver = (slot: Slot, outcome: WriteOutcome): void => {
    if (outcome.status !== 'applied') this.metrics?.outcomes.inc({ status: outcome.status, sobject: outcome.command.sobject });
    if (!slot.done) {
      slot.done = true;
      slot.resolve(outcome);
    } else {
      this.opts.onLateOutcome?.(outcome);
    }
  };

  private applied(entry: Entry, id: string, created: boolean, api: 'collections' | 'bulk'): void {
    const cmd = entry.command;
    const before = this.written.get(entry.key);
    this.written.set(entry.key, new Map([...(before ?? []), ...signature(cmd)]));
    if (cmd.externalIdField !== 'Id') this.ids.remember(cmd, id);
    if (cmd.sobject === 'PricebookEntry' && cmd.pricebookEntry) this.pricebook.remember(cmd.pricebookEntry, id);
    this.metrics?.outcomes.inc({ status: 'applied', sobject: cmd.sobject });
    settle(entry, this.deliver, (command) => ({ status: 'applied', command, id, created, api }));
    this.landed(cmd);
  }

  /** A record landed: children parked for it are retried on the next flush. */
  private landed(cmd: SalesforceWrite): void {
    const keys = [recordKey(cmd)];
    if (cmd.pricebookEntry) keys.push(recordKey({ sobject: 'Product2', externalIdField: this.skuField, externalId: cmd.pricebookEntry.sku }));
    for (const key of keys) for (const e of this.parkedByParent.get(key) ?? []) e.released = true;
  }

  private onRecordError(entry: Entry, info: SalesforceErrorInfo, attempts: number): void {
    const kind = classify(info);
    if (kind === 'parent-missing') {
      const parent = missingParent(entry.command, info);
      if (parent) return this.park(entry, parent, info);
    }
    this.fail(entry, info, attempts);
  }

  private fail(entry: Entry, info: SalesforceErrorInfo, attempts: number): void {
    this.forgetRecord(entry);
    const kind = classify(info);
    // an error of the org's set-up (a field unknown or read-only, no access, no session) is not the record's fault either
    if (kind === 'transient' || kind === 'quota' || kind === 'infrastructure') {
      this.log.warn({ sobject: entry.command.sobject, externalId: entry.command.externalId, errorCode: info.errorCode, attempts }, 'write still failing after retries: reported retryable');
      settle(entry, this.deliver, (command) => this.retryable(command, info, attempts));
      return;
    }
    this.log.warn({ sobject: entry.command.sobject, externalId: entry.command.externalId, errorCode: info.errorCode, fields: info.fields, message: info.message }, 'Salesforce refused the record');
    settle(entry, this.deliver, (command) => ({ status: 'failed', command, error: info, reason: `${info.errorCode}: ${info.message}` }));
  }

  private retryable(command: SalesforceWrite, error: SalesforceErrorInfo, attempts: number): WriteOutcome {
    return { status: 'retryable', command, error, attempts };
  }

  private forgetRecord(entry: Entry): void {
    this.written.delete(entry.key);
    if (entry.command.operation === 'DELETE') {
      this.ids.forget(entry.command);
      if (entry.command.pricebookEntry) this.pricebook.forget(entry.command.pricebookEntry);
    }
  }

  /** Keeps a child whose parent is missing until the parent lands or parentTimeoutMs passes. */
  private park(entry: Entry, parent: ParentRef, error: SalesforceErrorInfo): void {
    const now = Date.now();
    const first = entry.parkedSince === undefined;
    entry.parkedSince ??= now;
    // an entry parked under this key before (this one, or one it replaces) leaves the index with its old parent
    const before = this.parkedEntries.get(entry.key);
    if (before) this.unpark(before);
    entry.parent = parent;
    entry.lastError = error;
    entry.lastTry = now;
    entry.released = false;
    if (now - entry.parkedSince >= this.cfg.parentTimeoutMs) return this.parentNeverArrived(entry);
    if (first) {
      this.log.info({ sobject: entry.command.sobject, externalId: entry.command.externalId, parent }, 'parent missing: child parked');
      settle(entry, this.deliver, (command) => ({ status: 'parked', command, parent, error }));
    }
    const newer = this.pending.get(entry.key);
    if (newer) {
      // a later command for the same record arrived meanwhile: it carries on from the parked one
      const merged: Entry = { key: entry.key, command: entry.command, slots: entry.slots };
      absorb(merged, newer);
      this.pending.set(entry.key, merged);
      return;
    }
    this.parkedEntries.set(entry.key, entry);
    const parentKey = recordKey(parent);
    const siblings = this.parkedByParent.get(parentKey) ?? new Set<Entry>();
    siblings.add(entry);
    this.parkedByParent.set(parentKey, siblings);
    this.metrics?.parked.set(this.parkedEntries.size);
    this.ensureParkedTimer();
  }

  /** A parked entry leaves: written again, timed out, or let go. */
  private unpark(e: Entry): void {
    this.parkedEntries.delete(e.key);
    if (!e.parent) return;
    const parentKey = recordKey(e.parent);
    const siblings = this.parkedByParent.get(parentKey);
    siblings?.delete(e);
    if (siblings?.size === 0) this.parkedByParent.delete(parentKey);
  }

  private parentNeverArrived(entry: Entry): void {
    const p = entry.parent!;
    const waited = Math.round((Date.now() - (entry.parkedSince ?? Date.now())) / 1000);
    const reason = `parent ${p.label ?? `${p.sobject} ${p.externalId}`} never arrived: not found after ${waited} s`;
    const error = entry.lastError ?? { errorCode: 'PARENT_MISSING', message: reason, fields: [] };
    this.log.warn({ sobject: entry.command.sobject, externalId: entry.command.externalId, parent: p }, reason);
    settle(entry, this.deliver, (command) => ({ status: 'failed', command, error, reason }));
    this.metrics?.parked.set(this.parkedEntries.size);
  }

  private ensureParkedTimer(): void {
    if (this.parkedTimer || this.closed) return;
    const every = Math.max(10, Math.min(this.tuning.parkedRetryMs, this.cfg.parentTimeoutMs));
    this.parkedTimer = setInterval(() => {
      if (this.parkedEntries.size === 0) {
        clearInterval(this.parkedTimer);
        this.parkedTimer = undefined;
        return;
      }
      void this.runFlush();
    }, every);
  }
}

/** A command the sink cannot send at all (checked before it joins a batch). */
function validate(cmd: SalesforceWrite): SalesforceErrorInfo | undefined {
  if (!cmd.sobject) return { errorCode: 'INVALID_COMMAND', message: 'command has no sobject', fields: [] };
  if (!cmd.externalIdField || !cmd.externalId) {
    return { errorCode: 'MISSING_ARGUMENT', message: `${cmd.sobject}: command ${cmd.commandId} has no external id`, fields: [cmd.externalIdField] };
  }
  if (cmd.externalIdField === 'Id' && !cmd.pricebookEntry) {
    return { errorCode: 'INVALID_COMMAND', message: `${cmd.sobject} ${cmd.externalId}: writes by Id need a pricebookEntry reference`, fields: ['Id'] };
  }
  return undefined;
}

/**
 * The Salesforce sink: batches write commands per object (sObject Collections, Bulk API 2.0 above
 * the threshold), parents first, coalescing and skipping unchanged writes, quota-aware, retrying
 * transient errors and parking children whose parent is missing. See README.md in this folder.
 */
export function createSalesforceSink(opts: CreateSinkOptions): SalesforceSink {
  return new Sink(opts);
}
