import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CommittedTransaction, RecordChange, TransactionListener } from '../cdc/change-event.ts';
import type { FieldDef, OrgModel } from '../model/types.ts';
import { ModelIndex, type ObjectInfo } from '../model/index-model.ts';
import type { Logger } from '../../observability/logger.ts';
import { SfError } from './errors.ts';
import { makeId, normalizeId } from './ids.ts';
import { coerceValue, formatDateTime, type InputMode } from './values.ts';
import { applyObjectRules } from './object-rules.ts';

export type SfRecord = Record<string, unknown>;

export interface StoreOptions {
  dataDir: string;
  model: OrgModel;
  /** The user every API call runs as (005...). */
  userId: string;
  logger: Logger;
}

/** The API a transaction came through (undefined for a person's edit in the UI). */
export type WriteApi = 'rest' | 'composite' | 'collections' | 'bulk';

/** The API call a record write belongs to: one per UnitOfWork, the same object for all its writes. */
/** The API call that writes: its API and, for an HTTP call, its method and path (after /services/data/vXX.X). */
export interface WriteCall {
  readonly api: WriteApi | undefined;
  readonly method?: string;
  readonly path?: string;
}

/** Called before every API write of one record; throws (e.g. UNABLE_TO_LOCK_ROW) to refuse it. */
export type WriteHook = (objectName: string, id: string | undefined, call: WriteCall) => void;

/**
 * What one API call asked to write and what it wrote, by object: received counts the records it
 * tried to create, update, upsert or delete; written those committed (0 after a rollback).
 */
export interface WriteCallSummary {
  api: WriteApi;
  objects: Map<string, { received: number; written: number }>;
}

/** Called once per API transaction that tried to write, when it commits or rolls back. */
export type WriteCallListener = (summary: WriteCallSummary) => void;

interface UndoEntry { object: string; id: string; before: SfRecord | undefined }

/**
 * The emulated org's records: kept in memory (maps per object, indexes on external id and
 * unique fields) and written through to a SQLite file in the data dir at every commit, so a
 * restart keeps them. Writes go through a UnitOfWork (one per API call = one transaction).
 */
export class OrgStore {
  readonly index: ModelIndex;
  readonly model: OrgModel;
  readonly userId: string;
  private readonly db: Database.Database;
  private readonly data = new Map<string, Map<string, SfRecord>>();
  /** object → field → normalized value → ids (non-deleted records only) */
  private readonly valueIndex = new Map<string, Map<string, Map<string, Set<string>>>>();
  private seq = 0;
  private commitNumber = 0;
  private listener: TransactionListener | undefined;
  private writeHook: WriteHook | undefined;
  private callListener: WriteCallListener | undefined;
  private readonly log: Logger;
  private readonly putStmt: Database.Statement;
  private readonly delStmt: Database.Statement;
  private readonly metaStmt: Database.Statement;

  constructor(opts: StoreOptions) {
    this.model = opts.model;
    this.index = new ModelIndex(opts.model);
    this.userId = opts.userId;
    this.log = opts.logger;
    mkdirSync(opts.dataDir, { recursive: true });
    this.db = new Database(join(opts.dataDir, 'org.sqlite'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS records (id TEXT PRIMARY KEY, object TEXT NOT NULL, data TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`);
    this.putStmt = this.db.prepare('INSERT OR REPLACE INTO records (id, object, data) VALUES (?, ?, ?)');
    this.delStmt = this.db.prepare('DELETE FROM records WHERE id = ?');
    this.metaStmt = this.db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
    for (const obj of opts.model.objects) {
      this.data.set(obj.name, new Map());
      this.valueIndex.set(obj.name, new Map(this.index.object(obj.name)!.indexedFields.map((f) => [f.name, new Map()])));
    }
    this.load();
    this.ensureStandardPricebook();
  }

  private load(): void {
    const meta = new Map((this.db.prepare('SELECT key, value FROM meta').all() as Array<{ key: string; value: string }>).map((r) => [r.key, r.value]));
    this.seq = Number(meta.get('seq') ?? 0);
    this.commitNumber = Number(meta.get('commitNumber') ?? 0);
    for (const row of this.db.prepare('SELECT object, data FROM records').iterate() as Iterable<{ object: string; data: string }>) {
      const records = this.data.get(row.object);
      if (!records) continue; // object removed from the model: keep the row, do not serve it
      const rec = JSON.parse(row.data) as SfRecord;
      records.set(rec.Id as string, rec);
      if (!rec.IsDeleted) this.indexAdd(row.object, rec);
    }
  }

  private ensureStandardPricebook(): void {
    const books = this.data.get('Pricebook2');
    if (!books || [...books.values()].some((r) => r.IsStandard === true)) return;
    const info = this.index.object('Pricebook2')!;
    const rec = this.blank(info, Date.now());
    Object.assign(rec, { Name: 'Standard Price Book', IsActive: true, IsStandard: true, Description: 'The standard price book' });
    books.set(rec.Id as string, rec);
    this.indexAdd('Pricebook2', rec);
    this.db.transaction(() => {
      this.putStmt.run(rec.Id, 'Pricebook2', JSON.stringify(rec));
      this.metaStmt.run('seq', String(this.seq));
    })();
  }

  setListener(listener: TransactionListener | undefined): void { this.listener = listener; }
  setWriteHook(hook: WriteHook | undefined): void { this.writeHook = hook; }
  setWriteCallListener(listener: WriteCallListener | undefined): void { this.callListener = listener; }

  /** Every record of an object, deleted ones included (IsDeleted = true): SOQL filters. */
  records(objectName: string): Iterable<SfRecord> {
    const info = this.index.object(objectName);
    return info ? this.data.get(info.def.name)!.values() : [];
  }

  count(objectName: string): number {
    const info = this.index.object(objectName);
    return info ? this.data.get(info.def.name)!.size : 0;
  }

  /** One record by id (deleted ones included), or undefined. */
  get(objectName: string, id: string): SfRecord | undefined {
    const info = this.index.object(objectName);
    const norm = normalizeId(id);
    if (!info || !norm) return undefined;
    return this.data.get(info.def.name)!.get(norm);
  }

  /** Any record by id, whatever its object (from the key prefix). */
  getById(id: string): { object: string; record: SfRecord } | undefined {
    const norm = normalizeId(id);
    const info = norm ? this.index.objectByPrefix(norm.slice(0, 3)) : undefined;
    const record = info ? this.data.get(info.def.name)!.get(norm!) : undefined;
    return record ? { object: info!.def.name, record } : undefined;
  }

  /** Ids of live records whose field equals value (case-insensitive for text, as Salesforce external ids). */
  findBy(objectName: string, fieldName: string, value: unknown): string[] {
    const info = this.index.object(objectName);
    const field = info?.fieldsByLower.get(fieldName.toLowerCase());
    if (!info || !field || value === null || value === undefined) return [];
    if (field.name === 'Id') {
      const id = normalizeId(String(value));
      const rec = id ? this.data.get(info.def.name)!.get(id) : undefined;
      return rec && !rec.IsDeleted ? [id!] : [];
    }
    const idx = this.valueIndex.get(info.def.name)!.get(field.name);
    if (idx) return [...(idx.get(indexKey(value)) ?? [])];
    const key = indexKey(value);
    const out: string[] = [];
    for (const rec of this.data.get(info.def.name)!.values()) {
      if (!rec.IsDeleted && rec[field.name] !== null && indexKey(rec[field.name]) === key) out.push(rec.Id as string);
    }
    return out;
  }

  /** A transaction: an API call's (api set) or a person's edit in the UI (userEdit, no api). */
  begin(changeOrigin: string, opts: { userEdit?: boolean; userId?: string; api?: WriteApi; method?: string; path?: string } = {}): UnitOfWork {
    return new UnitOfWork(this, changeOrigin, opts.userEdit ?? false, opts.userId ?? this.userId, opts.api, opts.method, opts.path);
  }

  close(): void {
    this.db.close();
  }

  // ---- internals used by UnitOfWork ----

  /** @internal */ nextId(info: ObjectInfo): string {
    this.seq += 1;
    return makeId(info.def.keyPrefix, this.seq);
  }

  /** @internal */ nextSeq(): number { return ++this.seq; }

  /** @internal */ blank(info: ObjectInfo, now: number): SfRecord {
    const rec: SfRecord = {};
    for (const f of info.def.fields) rec[f.name] = f.type === 'boolean' ? (typeof f.defaultValue === 'boolean' ? f.defaultValue : false) : null;
    const ts = formatDateTime(now);
    Object.assign(rec, {
      Id: this.nextId(info), IsDeleted: false, CreatedDate: ts, CreatedById: this.userId,
      LastModifiedDate: ts, LastModifiedById: this.userId, SystemModstamp: ts,
    });
    return rec;
  }

  /** @internal */ table(objectName: string): Map<string, SfRecord> { return this.data.get(objectName)!; }

  /** @internal */ runWriteHook(objectName: string, id: string | undefined, call: WriteCall): void { this.writeHook?.(objectName, id, call); }

  /** @internal */ reportWriteCall(summary: WriteCallSummary): void {
    try {
      this.callListener?.(summary);
    } catch (err) {
      this.log.error({ err }, 'write call listener failed');
    }
  }

  /** @internal */ indexAdd(objectName: string, rec: SfRecord): void {
    for (const [field, idx] of this.valueIndex.get(objectName)!) {
      const v = rec[field];
      if (v === null || v === undefined) continue;
      const key = indexKey(v);
      let set = idx.get(key);
      if (!set) idx.set(key, (set = new Set()));
      set.add(rec.Id as string);
    }
  }

  /** @internal */ indexRemove(objectName: string, rec: SfRecord): void {
    for (const [field, idx] of this.valueIndex.get(objectName)!) {
      const v = rec[field];
      if (v === null || v === undefined) continue;
      const key = indexKey(v);
      const set = idx.get(key);
      set?.delete(rec.Id as string);
      if (set?.size === 0) idx.delete(key);
    }
  }

  /** @internal */ persist(dirty: Map<string, string>, tx: Omit<CommittedTransaction, 'commitNumber'>): CommittedTransaction {
    this.commitNumber += 1;
    const full: CommittedTransaction = { ...tx, commitNumber: this.commitNumber };
    this.db.transaction(() => {
      for (const [id, object] of dirty) {
        const rec = this.data.get(object)!.get(id);
        if (rec) this.putStmt.run(id, object, JSON.stringify(rec));
        else this.delStmt.run(id);
      }
      this.metaStmt.run('seq', String(this.seq));
      this.metaStmt.run('commitNumber', String(this.commitNumber));
    })();
    if (this.listener) {
      try {
        this.listener(full);
      } catch (err) {
        this.log.error({ err, transactionKey: full.transactionKey }, 'change listener failed');
      }
    }
    return full;
  }
}

function indexKey(value: unknown): string {
  return typeof value === 'string' ? value.toLowerCase() : String(value);
}

function sameValue(a: unknown, b: unknown): boolean {
  return a === b || (a === null && b === undefined) || (a === undefined && b === null);
}

export interface WriteOptions {
  mode?: InputMode;
}

export interface UpsertResult { id: string; created: boolean }

/**
 * One transaction: writes apply to memory at once (later reads in the same call see them),
 * are undone on rollback, and are persisted + reported to the change listener on commit.
 */
export class UnitOfWork implements WriteCall {
  private readonly undo: UndoEntry[] = [];
  private readonly changes: RecordChange[] = [];
  private readonly dirty = new Map<string, string>();
  /** Records each object was asked to write (create, update, upsert, delete), failed ones included. */
  private readonly received = new Map<string, number>();
  private depth = 0;
  private done = false;
  private reported = false;
  readonly transactionKey = randomUUID().replace(/-/g, '').slice(0, 20);

  constructor(
    private readonly store: OrgStore,
    private readonly changeOrigin: string,
    private readonly userEdit: boolean,
    private readonly userId: string,
    readonly api: WriteApi | undefined,
    readonly method?: string,
    readonly path?: string,
  ) {}

  savepoint(): { undo: number; changes: number } {
    return { undo: this.undo.length, changes: this.changes.length };
  }

  rollbackTo(sp: { undo: number; changes: number }): void {
    while (this.undo.length > sp.undo) {
      const entry = this.undo.pop()!;
      const table = this.store.table(entry.object);
      const current = table.get(entry.id);
      if (current && !current.IsDeleted) this.store.indexRemove(entry.object, current);
      if (entry.before) {
        table.set(entry.id, entry.before);
        if (!entry.before.IsDeleted) this.store.indexAdd(entry.object, entry.before);
      } else {
        table.delete(entry.id);
      }
    }
    this.changes.length = sp.changes;
  }

  rollback(): void {
    this.rollbackTo({ undo: 0, changes: 0 });
    this.done = true;
    this.report();
  }

  get size(): number { return this.changes.length; }

  /** Persists and reports the transaction; undefined when nothing changed. */
  commit(): CommittedTransaction | undefined {
    if (this.done) return undefined;
    this.done = true;
    const tx = this.changes.length === 0 ? undefined : this.store.persist(this.dirty, {
      transactionKey: this.transactionKey,
      commitTimestamp: Date.now(),
      commitUser: this.userId,
      changeOrigin: this.changeOrigin,
      changes: this.changes,
    });
    this.report();
    return tx;
  }

  /** Tells the store's write call listener, once, what this API call received and wrote. */
  private report(): void {
    if (this.reported || !this.api || this.received.size === 0) return;
    this.reported = true;
    const objects = new Map([...this.received].map(([object, received]) => [object, { received, written: 0 }]));
    for (const change of this.changes) {
      const entry = objects.get(change.entityName) ?? { received: 0, written: 0 };
      entry.written += change.recordIds.length;
      objects.set(change.entityName, entry);
    }
    this.store.reportWriteCall({ api: this.api, objects });
  }

  /** Runs one record write asked for by the caller; writes it makes itself (upsert → create) count once. */
  private counted<T>(objectName: string, fn: () => T): T {
    if (this.depth > 0) return fn();
    this.depth += 1;
    try {
      return fn();
    } finally {
      this.depth -= 1;
      const name = this.store.index.object(objectName)?.def.name;
      if (name) this.received.set(name, (this.received.get(name) ?? 0) + 1);
    }
  }

  private object(name: string): ObjectInfo {
    const info = this.store.index.object(name);
    if (!info) throw new SfError('INVALID_TYPE', `sObject type '${name}' is not supported.`);
    return info;
  }

  /** Runs fn as one record's change: on error, that record's effects are undone and the error rethrown. */
  private atomic<T>(fn: () => T): T {
    const sp = this.savepoint();
    try {
      return fn();
    } catch (err) {
      this.rollbackTo(sp);
      throw err;
    }
  }

  create(objectName: string, body: SfRecord, opts: WriteOptions = {}): string {
    return this.counted(objectName, () => this.atomic(() => {
      const info = this.object(objectName);
      if (!this.userEdit) this.store.runWriteHook(info.def.name, undefined, this);
      const values = this.prepare(info, body, 'create', opts.mode ?? 'json');
      const now = Date.now();
      const rec = this.store.blank(info, now);
      for (const f of info.def.fields) {
        if (values.has(f.name)) rec[f.name] = values.get(f.name);
        else if (f.defaultValue !== undefined && f.type !== 'boolean') rec[f.name] = f.defaultValue;
      }
      applyObjectRules(this.store, info.def.name, rec, undefined);
      const missing = info.def.fields.filter((f) => f.required && (rec[f.name] === null || rec[f.name] === undefined)).map((f) => f.name);
      if (missing.length) throw new SfError('REQUIRED_FIELD_MISSING', `Required fields are missing: [${missing.join(', ')}]`, missing);
      this.checkUnique(info, rec);
      const id = rec.Id as string;
      this.record(info.def.name, id, undefined, rec);
      const fields: SfRecord = {};
      for (const [k, v] of Object.entries(rec)) if (v !== null && k !== 'IsDeleted') fields[k] = v;
      this.changes.push({ entityName: info.def.name, recordIds: [id], changeType: 'CREATE', fields, changedFields: [], nulledFields: [], diffFields: [] });
      return id;
    }));
  }

  update(objectName: string, id: string, body: SfRecord, opts: WriteOptions = {}): void {
    this.counted(objectName, () => this.atomic(() => {
      const info = this.object(objectName);
      const before = this.live(info, id);
      if (!this.userEdit) this.store.runWriteHook(info.def.name, before.Id as string, this);
      const values = this.prepare(info, body, 'update', opts.mode ?? 'json');
      const rec: SfRecord = { ...before };
      for (const [k, v] of values) rec[k] = v;
      applyObjectRules(this.store, info.def.name, rec, before);
      const nulledRequired = info.def.fields.filter((f) => f.required && values.has(f.name) && rec[f.name] === null).map((f) => f.name);
      if (nulledRequired.length) throw new SfError('REQUIRED_FIELD_MISSING', `Required fields are missing: [${nulledRequired.join(', ')}]`, nulledRequired);
      this.checkUnique(info, rec);
      const ts = formatDateTime(Date.now());
      rec.LastModifiedDate = ts;
      rec.SystemModstamp = ts;
      rec.LastModifiedById = this.userId;
      const changedFields: string[] = [];
      const fields: SfRecord = {};
      const nulledFields: string[] = [];
      for (const f of info.def.fields) {
        if (f.name === 'SystemModstamp' || f.name === 'LastModifiedById') continue;
        // an update event always lists LastModifiedDate, even when it stays in the same second
        if (f.name === 'LastModifiedDate' || !sameValue(before[f.name], rec[f.name])) {
          changedFields.push(f.name);
          fields[f.name] = rec[f.name];
          if (rec[f.name] === null) nulledFields.push(f.name);
        }
      }
      this.record(info.def.name, before.Id as string, before, rec);
      this.changes.push({ entityName: info.def.name, recordIds: [before.Id as string], changeType: 'UPDATE', fields, changedFields, nulledFields, diffFields: [] });
    }));
  }

  /**
   * Upsert by external id (or Id): no match → create (unless updateOnly), one → update,
   * several → 300 MULTIPLE_CHOICES / DUPLICATE_EXTERNAL_ID.
   */
  upsert(objectName: string, extField: string, value: unknown, body: SfRecord, opts: WriteOptions & { updateOnly?: boolean } = {}): UpsertResult {
    return this.counted(objectName, () => this.upsertOne(objectName, extField, value, body, opts));
  }

  private upsertOne(objectName: string, extField: string, value: unknown, body: SfRecord, opts: WriteOptions & { updateOnly?: boolean }): UpsertResult {
    const info = this.object(objectName);
    const field = info.fieldsByLower.get(extField.toLowerCase());
    if (!field || !(field.externalId || field.name === 'Id')) {
      throw new SfError('NOT_FOUND', `Provided external ID field does not exist or is not accessible: ${extField}`, [], 404);
    }
    const stripped: SfRecord = {};
    for (const [k, v] of Object.entries(body)) if (k.toLowerCase() !== field.name.toLowerCase()) stripped[k] = v;
    const hasValue = value !== null && value !== undefined && value !== '';
    const matches = hasValue ? this.store.findBy(info.def.name, field.name, field.name === 'Id' ? value : coerceValue(field, value, opts.mode ?? 'json')) : [];
    if (matches.length > 1) {
      throw new SfError('DUPLICATE_EXTERNAL_ID', `${field.name}: more than one record found for external id field: [${matches.join(', ')}]`, [field.name], 300);
    }
    if (matches.length === 1) {
      this.update(info.def.name, matches[0]!, stripped, opts);
      return { id: matches[0]!, created: false };
    }
    if (opts.updateOnly || (field.name === 'Id' && hasValue)) throw new SfError('NOT_FOUND', `The requested resource does not exist`, [], 404);
    if (!hasValue && field.name !== 'Id') {
      throw new SfError('MISSING_ARGUMENT', `${field.name} not specified`, [field.name]);
    }
    const id = this.create(info.def.name, field.name === 'Id' ? stripped : { ...stripped, [field.name]: value }, opts);
    return { id, created: true };
  }

  delete(objectName: string, id: string): void {
    this.counted(objectName, () => this.atomic(() => {
      const info = this.object(objectName);
      const before = this.live(info, id);
      if (!this.userEdit) this.store.runWriteHook(info.def.name, before.Id as string, this);
      const ts = formatDateTime(Date.now());
      const rec = { ...before, IsDeleted: true, SystemModstamp: ts, LastModifiedDate: ts, LastModifiedById: this.userId };
      this.record(info.def.name, before.Id as string, before, rec);
      this.changes.push({ entityName: info.def.name, recordIds: [before.Id as string], changeType: 'DELETE', fields: {}, changedFields: [], nulledFields: [], diffFields: [] });
    }));
  }

  /** The live record, or NOT_FOUND / ENTITY_IS_DELETED / MALFORMED_ID as Salesforce answers. */
  live(info: ObjectInfo, id: string): SfRecord {
    const norm = normalizeId(id);
    if (!norm || norm.slice(0, 3) !== info.def.keyPrefix) {
      throw new SfError('MALFORMED_ID', `${info.def.label} ID: id value of incorrect type: ${id}`, ['Id']);
    }
    const rec = this.store.table(info.def.name).get(norm);
    if (!rec) throw new SfError('NOT_FOUND', 'The requested resource does not exist', [], 404);
    if (rec.IsDeleted) throw new SfError('ENTITY_IS_DELETED', 'entity is deleted', [], 404);
    return rec;
  }

  private record(object: string, id: string, before: SfRecord | undefined, after: SfRecord): void {
    const table = this.store.table(object);
    if (before && !before.IsDeleted) this.store.indexRemove(object, before);
    table.set(id, after);
    if (!after.IsDeleted) this.store.indexAdd(object, after);
    this.undo.push({ object, id, before });
    this.dirty.set(id, object);
  }

  /** Field values from a request body: names resolved, types checked, lookups resolved. */
  private prepare(info: ObjectInfo, body: SfRecord, op: 'create' | 'update', mode: InputMode): Map<string, unknown> {
    const values = new Map<string, unknown>();
    for (const [key, raw] of Object.entries(body)) {
      if (key === 'attributes') continue;
      const lower = key.toLowerCase();
      const field = info.fieldsByLower.get(lower);
      if (!field) {
        const viaRel = info.relationships.get(lower);
        if (viaRel && raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
          values.set(viaRel.name, this.resolveForeignKey(viaRel, raw as SfRecord, mode));
          continue;
        }
        throw new SfError('INVALID_FIELD', `No such column '${key}' on sobject of type ${info.def.name}`, [key]);
      }
      if (field.name === 'Id') {
        if (op === 'update') continue; // the id in the body of an update names the record
        throw new SfError('INVALID_FIELD_FOR_INSERT_UPDATE', 'cannot specify Id in an insert call', ['Id']);
      }
      const allowed = op === 'create' ? field.createable !== false : field.updateable !== false;
      if (!allowed) {
        throw new SfError('INVALID_FIELD_FOR_INSERT_UPDATE',
          `Unable to ${op} fields: ${field.name}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`, [field.name]);
      }
      const value = coerceValue(field, raw, mode);
      if (field.type === 'reference' && value !== null) this.checkReference(field, value as string);
      values.set(field.name, value);
    }
    return values;
  }

  private checkReference(field: FieldDef, id: string): void {
    const target = this.store.getById(id);
    const types = field.referenceTo ?? [];
    const known = types.some((t) => this.store.index.object(t));
    if (!known) return; // e.g. User: not modelled, accept any well-formed id
    if (!target || target.record.IsDeleted || !types.includes(target.object)) {
      const prefixOk = target ? types.includes(target.object) : types.some((t) => this.store.index.object(t)?.def.keyPrefix === id.slice(0, 3));
      if (!prefixOk) {
        throw new SfError('FIELD_INTEGRITY_EXCEPTION', `${field.label ?? field.name}: id value of incorrect type: ${id}`, [field.name]);
      }
      throw new SfError('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id', [field.name]);
    }
  }

  /** `"Account": {"Shop_Customer_Id__c": "x"}` → the Account's id. */
  private resolveForeignKey(field: FieldDef, ref: SfRecord, mode: InputMode): string | null {
    const targetName = field.referenceTo?.[0];
    const target = targetName ? this.store.index.object(targetName) : undefined;
    const keys = Object.keys(ref).filter((k) => k !== 'attributes');
    if (!target || keys.length !== 1) {
      throw new SfError('INVALID_FIELD', `Foreign key external ID: a single external id field is required for ${field.relationshipName}`, [field.name]);
    }
    const extName = keys[0]!;
    const ext = target.fieldsByLower.get(extName.toLowerCase());
    if (!ext || !(ext.externalId || ext.name === 'Id')) {
      throw new SfError('INVALID_FIELD', `Field ${extName} is not an external id field on ${target.def.name}`, [field.name]);
    }
    const raw = ref[extName];
    if (raw === null || raw === undefined || raw === '') return null;
    const value = ext.name === 'Id' ? raw : coerceValue(ext, raw, mode);
    const ids = this.store.findBy(target.def.name, ext.name, value);
    if (ids.length === 0) {
      throw new SfError('INVALID_FIELD', `Foreign key external ID: ${String(raw)} not found for field ${ext.name} in entity ${target.def.name}`, [field.name]);
    }
    if (ids.length > 1) {
      throw new SfError('INVALID_FIELD', `Foreign key external ID: ${String(raw)} matched more than one record for field ${ext.name} in entity ${target.def.name}`, [field.name]);
    }
    return ids[0]!;
  }

  private checkUnique(info: ObjectInfo, rec: SfRecord): void {
    for (const f of info.indexedFields) {
      if (!f.unique) continue;
      const v = rec[f.name];
      if (v === null || v === undefined) continue;
      const other = this.store.findBy(info.def.name, f.name, v).find((id) => id !== rec.Id);
      if (other) {
        throw new SfError('DUPLICATE_VALUE', `duplicate value found: ${f.name} duplicates value on record with id: ${other}`, [f.name]);
      }
    }
  }
}
