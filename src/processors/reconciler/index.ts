/**
 * Normalize + reconcile, per entity key. A routed raw change updates the kept images of its side;
 * the entity's mapping turns the assembled images into the full canonical record (published on
 * sync.<entity>); decide() (docs/design.md, "Reconciliation") says duplicate / echo / apply /
 * conflict / noop; the planned writes become commands on sync.out.salesforce and sync.out.shop, and
 * the decision goes to sync.audit. Both steps run here because the canonical record is built from
 * the images and the previous record that only this key's state holds.
 */
import type { ShopforceConfig } from '../../config/schema.ts';
import { enabledEntities } from '../../entities/index.ts';
import type { CanonicalChange } from '../../entities/types.ts';
import type { RoutedChange } from '../../flows/routed-change.ts';
import { topicNames } from '../../flows/topic-names.ts';
import { PoisonRecordError } from '../../kafka/errors.ts';
import type { Output, RecordContext } from '../../kafka/types.ts';
import { decide } from '../../reconcile/decide.ts';
import { policyFor } from '../../reconcile/policy.ts';
import type { Alert } from '../../reconcile/types.ts';
import { emptyEntityState, withImage, type EntityState } from './images.ts';
import { decisionOutputs, type Encode, type Flow } from './outputs.ts';
import { flushDueWindows, type WindowContext } from './window.ts';

export type { EntityState } from './images.ts';
export type { Encode } from './outputs.ts';

/** An alert raised by a decision, for the pipeline to count and deliver. */
export type OnAlert = (entity: string, alert: Alert) => void;

export function createReconciler(config: ShopforceConfig, encode: Encode, onAlert: OnAlert = () => {}) {
  const names = topicNames(config.kafka.topicNamespace);
  const flows = new Map<string, Flow>(enabledEntities(config).map((entity) => [entity.name, { entity, policy: policyFor(entity, config.reconcile) }]));

  async function handle(ctx: RecordContext<unknown, EntityState>): Promise<Output[]> {
    const msg = ctx.value as RoutedChange;
    const flow = flows.get(msg.entity);
    if (!flow) throw new PoisonRecordError(`no enabled flow for entity ${msg.entity}`);
    const { entity, policy } = flow;
    ctx.setSourceTime(msg.eventTime);
    const state: EntityState = ctx.state.get(msg.key) ?? emptyEntityState();
    const shopSide = msg.origin === 'SHOP';
    const sideSpec = shopSide ? entity.flow.shop : entity.flow.salesforce;
    const partSpec = sideSpec[msg.part];
    if (!partSpec) throw new PoisonRecordError(`${msg.part} is not a part of ${msg.entity}`);
    const isMain = Object.keys(sideSpec)[0] === msg.part;
    const op = isMain && msg.op === 'DELETE' ? 'DELETE' : 'UPSERT';
    const envelope: CanonicalChange = {
      shopId: config.shopId, entity: msg.entity, key: msg.key, origin: msg.origin, sourcePosition: msg.sourcePosition,
      transactionId: msg.transactionId, eventTime: msg.eventTime, op, sourceRecordId: msg.recordId,
      sourceVersion: msg.sourceVersion, changeOrigin: msg.changeOrigin, record: null, knownFields: [],
    };
    const lastBySide = { SHOP: state.rec?.lastFromShop?.record ?? null, SALESFORCE: state.rec?.lastFromSalesforce?.record ?? null };

    // a position seen before changes nothing, not even the kept images (a late duplicate must not revert them)
    if (state.rec?.seenPositions.includes(`${msg.origin}:${msg.sourcePosition}`)) {
      const result = decide(state.rec, msg.key, envelope, policy);
      return decisionOutputs({ entity, change: envelope, writes: [], lastBySide, audit: result.audit, publish: false }, names, encode);
    }

    const parts = withImage(shopSide ? state.shop : state.salesforce, partSpec, msg);
    const next: EntityState = { ...state, [shopSide ? 'shop' : 'salesforce']: parts };
    const input = shopSide ? entity.flow.shopInput(parts) : entity.flow.salesforceInput(parts);
    if (op === 'UPSERT' && !input) {
      // a child before its parent (a line before its order): keep it until the main part arrives
      ctx.state.set(msg.key, next);
      return [];
    }
    const previousSame = (shopSide ? state.rec?.lastFromShop?.record : state.rec?.lastFromSalesforce?.record) ?? null;
    // what an image does not hold (a shop-only field, the status behind an ambiguous stage) comes
    // from the last agreed record; only the fields the images at hand carry are compared
    const previous = state.rec?.base ?? previousSame;
    const record = op === 'DELETE'
      ? previousSame
      : shopSide ? entity.mapping.fromShopRow(input, previous) : entity.mapping.fromSalesforce(input, previous);
    let knownFields = op === 'DELETE' ? [] : shopSide ? entity.mapping.knownFromShop(input, null) : entity.mapping.knownFromSalesforce(input, null);
    if (!shopSide && op === 'UPSERT' && msg.ours) {
      // our own writes come back one record at a time: a list made of several records (the line
      // items of an order) is incomplete until the last one arrives, so it is not compared
      const partial = Object.values(sideSpec).filter((p) => p.many && p.field).map((p) => p.field!);
      if (partial.length > 0 && record) {
        knownFields = (knownFields.length ? knownFields : Object.keys(record)).filter((f) => !partial.includes(f));
        if (knownFields.length === 0) {
          ctx.state.set(msg.key, next);
          return [];
        }
      }
    }
    const change: CanonicalChange = { ...envelope, record, knownFields };
    const result = decide(state.rec, msg.key, { ...change, ours: msg.ours ?? undefined, repair: msg.repair }, policy);
    const windowOpenedAt = result.newState.windowPending ? state.windowOpenedAt ?? Date.now() : undefined;
    ctx.state.set(msg.key, { ...next, entity: msg.entity, rec: result.newState, windowOpenedAt });
    for (const alert of result.alerts) {
      ctx.log.warn({ entity: msg.entity, key: msg.key, kind: alert.kind, fields: alert.fields }, alert.message);
      onAlert(msg.entity, alert);
    }
    return decisionOutputs({ entity, change, writes: result.writes, lastBySide, audit: result.audit, publish: result.decision !== 'duplicate' }, names, encode);
  }

  /** Writes the stock windows that are due (all of them when `final`: a graceful stop flushes). */
  async function punctuate(ctx: WindowContext): Promise<Output[]> {
    return flushDueWindows(ctx, flows, config.shopId, names, encode);
  }

  const windowed = [...flows.values()].filter((f) => f.policy.master === 'BOTH' && f.policy.windowMs > 0);
  return {
    topics: [...flows.keys()].map(names.routed),
    handle,
    /** How often due windows are looked for: a tenth of the shortest window, between 100 ms and 5 s. */
    punctuateIntervalMs: windowed.length === 0 ? null : Math.min(5_000, Math.max(100, Math.min(...windowed.map((f) => f.policy.windowMs)) / 10)),
    punctuate,
  };
}
