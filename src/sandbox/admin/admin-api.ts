import { z } from 'zod';
import type { ChangeType } from '../cdc/change-event.ts';
import type { ObjectInfo } from '../model/index-model.ts';
import { SfError } from '../store/errors.ts';
import type { OrgStore, SfRecord, UnitOfWork } from '../store/store.ts';
import { addDecimal } from '../store/values.ts';
import type { CounterSnapshot, Counters } from './counters.ts';
import type { FaultSettings, FaultSettingsInput, Faults } from './faults.ts';
import type { Latency, LatencyModel } from './latency.ts';
import type { ApiQuota } from './quota.ts';
import { setChangeDataCapture, setFieldSetup, type CdcSetup, type FieldFlags, type FieldSetup } from './org-setup.ts';

export const userEditSchema = z.object({
  object: z.string().min(1, 'object is required'),
  id: z.string().optional(),
  externalId: z.object({ field: z.string().min(1), value: z.string().min(1) }).optional(),
  fields: z.record(z.string(), z.unknown()).default({}),
  /** Number fields to adjust by the given amounts (current value, null as 0, plus the amount). */
  increment: z.record(z.string(), z.number().finite()).optional(),
  delete: z.boolean().optional(),
}).strict()
  .refine((v) => v.id || v.externalId, { message: 'id or externalId is required', path: ['id'] })
  .refine((v) => !(v.delete && v.increment), { message: 'delete and increment do not go together', path: ['increment'] });

export type UserEdit = z.input<typeof userEditSchema>;
export interface UserEditResult {
  id: string;
  created: boolean;
  /** With increment: the new values of the incremented fields. */
  values?: Record<string, unknown>;
}

const NUMBER_TYPES = new Set(['int', 'double', 'currency', 'percent']);

/** The field values an increment writes: each field's current value plus its amount. */
function incremented(info: ObjectInfo, rec: SfRecord, increment: Record<string, number>, fields: SfRecord): SfRecord {
  const out: SfRecord = {};
  const given = new Set(Object.keys(fields).map((k) => k.toLowerCase()));
  for (const [name, amount] of Object.entries(increment)) {
    const field = info.fieldsByLower.get(name.toLowerCase());
    if (!field) throw new SfError('INVALID_FIELD', `No such column '${name}' on sobject of type ${info.def.name}`, [name]);
    if (!NUMBER_TYPES.has(field.type)) throw new SfError('INVALID_FIELD', `${field.name} is not a number field: it cannot be incremented`, [field.name]);
    if (given.has(field.name.toLowerCase())) throw new SfError('INVALID_FIELD', `${field.name} is both set (fields) and incremented`, [field.name]);
    if (field.type === 'int' && !Number.isInteger(amount)) throw new SfError('INVALID_FIELD', `${field.name} is an integer field: increment it by a whole number`, [field.name]);
    const current = rec[field.name];
    out[field.name] = addDecimal(typeof current === 'number' ? current : 0, amount);
  }
  return out;
}

/** One edit inside the person's transaction; the increment reads and writes in it, so no other write comes between. */
function applyUserEdit(store: OrgStore, uow: UnitOfWork, info: ObjectInfo, edit: z.output<typeof userEditSchema>): UserEditResult {
  const existing = () => {
    const id = edit.id ?? store.findBy(info.def.name, edit.externalId!.field, edit.externalId!.value)[0];
    if (!id) throw new SfError('NOT_FOUND', 'The requested resource does not exist', [], 404);
    return id;
  };
  if (edit.delete) {
    const id = existing();
    uow.delete(info.def.name, id);
    return { id, created: false };
  }
  if (edit.increment) {
    const rec = uow.live(info, existing());
    const values = incremented(info, rec, edit.increment, edit.fields);
    uow.update(info.def.name, rec.Id as string, { ...edit.fields, ...values });
    const after = store.get(info.def.name, rec.Id as string)!;
    return { id: rec.Id as string, created: false, values: Object.fromEntries(Object.keys(values).map((k) => [k, after[k]])) };
  }
  if (edit.id) {
    uow.update(info.def.name, edit.id, edit.fields);
    return { id: store.get(info.def.name, edit.id)!.Id as string, created: false };
  }
  return uow.upsert(info.def.name, edit.externalId!.field, edit.externalId!.value, edit.fields);
}

export const quotaSchema = z.object({
  max: z.number().int().positive().optional(),
  used: z.number().int().min(0).optional(),
  exhausted: z.boolean().optional(),
}).strict();

type GapType = Extract<ChangeType, `GAP_${string}`>;

/** What the admin API (and tests, in process) can do to a running sandbox. */
export interface SandboxAdmin {
  /** Admin API base URL (http) and the token it requires. */
  readonly url: string;
  readonly token: string;
  faults(): FaultSettings;
  /** Merges settings, e.g. `{ failNext: { count: 2, status: 503, api: 'collections' } }`. */
  setFaults(partial: FaultSettingsInput): FaultSettings;
  clearFaults(): FaultSettings;
  /** The latency model in force, with the long requests running and refused so far. */
  latency(): ReturnType<Latency['get']>;
  /** Merges a partial model, or takes a preset: `'real-org'`, `{ preset: 'none' }`. */
  setLatency(input: Partial<LatencyModel> | string | { preset: string }): LatencyModel;
  expireSessions(): number;
  quota(): { used: number; max: number; remaining: number };
  setQuota(opts: z.input<typeof quotaSchema>): { used: number; max: number; remaining: number };
  counters(): CounterSnapshot;
  resetCounters(): void;
  /** A person editing in the UI: commits with changeOrigin ''. `increment` adjusts number fields atomically. */
  userEdit(edit: UserEdit): UserEditResult;
  resetPubSubStreams(): number;
  dropCometdClients(): number;
  emitGap(entityName: string, recordIds: string[], changeType: GapType): void;
  emitOverflow(entityName: string): void;
  /** An administrator's change of a field's access or attributes (see org-setup.ts). */
  setField(input: FieldSetup): FieldFlags;
  /** Selects an object for Change Data Capture, or takes it out. */
  setChangeDataCapture(input: CdcSetup): { object: string; enabled: boolean };
  /** Every change event issued so far leaves the retention window: a client resuming from its replay id is refused (expired). */
  expireEvents(): number;
  /** Stops and starts the whole emulator (same ports, same data). */
  restart(downMs?: number): Promise<void>;
}

export interface CoreRefs {
  store: () => OrgStore;
  hub: () => { pubsub: { resetStreams(): number }; cometd: { dropClients(): number }; emitGap(e: string, ids: string[], t: GapType): unknown; emitOverflow(e: string): unknown; expireEvents(): number; counters(): Record<string, number> } | undefined;
  expireSessions: () => number;
  quota: () => ApiQuota;
  faults: Faults;
  latency: Latency;
  counters: Counters;
  restart: (downMs: number) => Promise<void>;
}

const HUB_CALLS: Record<string, 'cometd' | 'pubsub'> = {
  'cometd.handshakes': 'cometd', 'cometd.subscribes': 'cometd',
  'pubsub.subscribe': 'pubsub', 'pubsub.getSchema': 'pubsub', 'pubsub.getTopic': 'pubsub',
  'pubsub.publish': 'pubsub', 'pubsub.publishStream': 'pubsub',
};

/** Sums the CDC hub's call counters into the `cometd` and `pubsub` API counts. */
function hubApiCounts(raw: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(raw)) {
    const api = HUB_CALLS[k];
    if (api) out[api] = (out[api] ?? 0) + v;
  }
  return out;
}

export function createAdmin(url: string, token: string, refs: CoreRefs): SandboxAdmin {
  return {
    url,
    token,
    faults: () => refs.faults.get(),
    setFaults: (partial) => refs.faults.set(partial),
    clearFaults: () => refs.faults.clear(),
    latency: () => refs.latency.get(),
    setLatency: (input) => refs.latency.set(input),
    expireSessions: () => refs.expireSessions(),
    quota: () => refs.quota().usage(),
    setQuota: (opts) => {
      refs.quota().set(quotaSchema.parse(opts));
      return refs.quota().usage();
    },
    counters: () => {
      const hub = refs.hub();
      const raw = hub ? hub.counters() : {};
      return { ...refs.counters.snapshot(hubApiCounts(raw)), cdc: raw };
    },
    resetCounters: () => refs.counters.reset(),
    userEdit: (input) => {
      const edit = userEditSchema.parse(input);
      const store = refs.store();
      const info = store.index.object(edit.object);
      if (!info) throw new SfError('INVALID_TYPE', `sObject type '${edit.object}' is not supported.`, [], 400);
      const uow = store.begin('', { userEdit: true });
      try {
        const result = applyUserEdit(store, uow, info, edit);
        uow.commit();
        return result;
      } catch (err) {
        uow.rollback();
        throw err;
      }
    },
    resetPubSubStreams: () => refs.hub()?.pubsub.resetStreams() ?? 0,
    dropCometdClients: () => refs.hub()?.cometd.dropClients() ?? 0,
    emitGap: (entityName, recordIds, changeType) => { refs.hub()?.emitGap(entityName, recordIds, changeType); },
    emitOverflow: (entityName) => { refs.hub()?.emitOverflow(entityName); },
    setField: (input) => setFieldSetup(refs.store(), input),
    setChangeDataCapture: (input) => setChangeDataCapture(refs.store(), input),
    expireEvents: () => refs.hub()?.expireEvents() ?? 0,
    restart: (downMs = 0) => refs.restart(downMs),
  };
}
