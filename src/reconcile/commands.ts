/** Turns the reconciler's planned canonical writes into sync.out.* commands through the entity mapping. */
import type { WriteContext } from '../entities/commands.ts';
import type { AnyEntityMapping } from '../entities/entity.ts';
import type { CanonicalChange, SalesforceWrite, ShopWrite } from '../entities/types.ts';
import type { PlannedWrite, Rec } from './types.ts';

export interface Commands { salesforce: SalesforceWrite[]; shop: ShopWrite[] }

/** The version and time a key's commands carry for the sinks' guards (never lower than an earlier command's). */
export interface WriteOrder { sourceVersion: number | null; eventTime: number }

/**
 * `previous` is the last record known on the target side (e.g. state.lastFromSalesforce.record), so an
 * order whose line went away deletes it there; `base` is the base before the change (WriteOptions.base);
 * `order` the version and time the commands carry (default: the change's).
 */
export function commandsFor(mapping: AnyEntityMapping, change: CanonicalChange, writes: PlannedWrite[], previous?: { SHOP?: Rec | null; SALESFORCE?: Rec | null }, base?: Rec | null, order?: WriteOrder): Commands {
  const ctx: WriteContext = {
    shopId: change.shopId, entity: change.entity, key: change.key, sourcePosition: change.sourcePosition,
    transactionId: change.transactionId, eventTime: order?.eventTime ?? change.eventTime, sourceVersion: order ? order.sourceVersion : change.sourceVersion,
  };
  const out: Commands = { salesforce: [], shop: [] };
  for (const w of writes) {
    const opts = {
      fields: w.fields ? new Set(w.fields) : undefined, previous: previous?.[w.target] ?? null,
      base: w.reason === 'reassert-master' ? undefined : base ?? null,
    };
    if (w.target === 'SALESFORCE') {
      // a re-asserted master value, or a merged stock value, must be written even when it equals our
      // last write: the record changed on Salesforce since
      const reassert = w.reason === 'reassert-master' || w.reason === 'delta-merge';
      out.salesforce.push(...mapping.toSalesforce(w.record, ctx, w.op, opts).map((c) => (reassert ? { ...c, reassert } : c)));
    }
    else out.shop.push(...mapping.toShop(w.record, ctx, w.op, opts));
  }
  return out;
}
