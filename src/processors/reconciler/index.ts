/**
 * Normalize + reconcile, per entity key. A routed raw change updates the kept images of its side;
 * the entity's mapping turns the assembled images into the full canonical record (published on
 * sync.<entity>); decide() (docs/design.md, "Reconciliation") says duplicate / echo / apply /
 * conflict / noop; the planned writes become commands on sync.out.salesforce and sync.out.shop, and
 * the decision goes to sync.audit. Both steps run here because the canonical record is built from
 * the images and the previous record that only this key's state holds. Many-part changes of an
 * entity with a gather time are decided together (gather.ts), stock writes once per window (window.ts):
 * both by the punctuation.
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
import type { Alert, Change } from '../../reconcile/types.ts';
import { decideFromImages, seen, type DecisionEnv, type SideChange } from './decision.ts';
import { checkImage, flushGathered, gather, gatherMsOf, gathers } from './gather.ts';
import { emptyEntityState, isStale, withImage, withVersion, type EntityState } from './images.ts';
import { decisionOutputs, type Encode, type Flow } from './outputs.ts';
import { isReplayed, withTaken } from './replay.ts';
import { raiseOverdue } from './watch.ts';
import { flushDueWindows, type WindowContext } from './window.ts';

export type { EntityState } from './images.ts';
export type { Encode } from './outputs.ts';

/** An alert raised by a decision, for the pipeline to count and deliver. */
export type OnAlert = (entity: string, alert: Alert) => void;

export function createReconciler(config: ShopforceConfig, encode: Encode, onAlert: OnAlert = () => {}) {
  const names = topicNames(config.kafka.topicNamespace);
  const flows = new Map<string, Flow>(enabledEntities(config).map((entity) => [entity.name, { entity, policy: policyFor(entity, config.reconcile) }]));
  const envFor = (log: DecisionEnv['log'], now: number): DecisionEnv => ({ shopId: config.shopId, names, encode, onAlert, log, now });

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

    /** A change that changes nothing: its decision (duplicate) goes to the audit, nothing else. */
    const auditOnly = async (extra: Pick<Change, 'backfill' | 'stale' | 'replayed'> = {}): Promise<Output[]> => {
      const change: CanonicalChange = {
        shopId: config.shopId, entity: msg.entity, key: msg.key, origin: msg.origin, sourcePosition: msg.sourcePosition,
        transactionId: msg.transactionId, eventTime: msg.eventTime, op, sourceRecordId: msg.recordId,
        sourceVersion: msg.sourceVersion, changeOrigin: msg.changeOrigin, record: null, knownFields: [],
      };
      const result = decide(state.rec, msg.key, { ...change, ...extra }, policy);
      const lastBySide = { SHOP: state.rec?.lastFromShop?.record ?? null, SALESFORCE: state.rec?.lastFromSalesforce?.record ?? null };
      return decisionOutputs({ entity, change, writes: [], lastBySide, baseBefore: state.rec?.base ?? null, audit: result.audit, publish: false }, names, encode);
    };

    // a position seen before changes nothing, not even the kept images (a late duplicate must not revert them);
    // a Salesforce event replayed from further back than the remembered positions is known by its replay id
    const replayed = isReplayed(state, msg);
    if (state.rec?.seenPositions.includes(`${msg.origin}:${msg.sourcePosition}`) || replayed) return auditOnly({ replayed });
    /** Keeps the key's new state, this change taken. */
    const keep = (next: EntityState) => ctx.state.set(msg.key, { ...next, taken: withTaken(next, msg) });

    // older than the image kept for its record, where a backfill is involved (docs/design.md, "Backfill")
    const stale = isStale(state, msg);
    if (stale && msg.backfill !== 'written') return auditOnly({ backfill: msg.backfill, stale });

    if (gathers(flow, partSpec.many, isMain)) {
      checkImage(flow, state, partSpec, msg);
      keep(gather(flow, state, partSpec, msg, Date.now()));
      return [];
    }
    const parts = withImage(shopSide ? state.shop : state.salesforce, partSpec, msg);
    const next: EntityState = stale ? state : { ...state, [shopSide ? 'shop' : 'salesforce']: parts, versions: withVersion(state, msg) };
    const input = shopSide ? entity.flow.shopInput(parts) : entity.flow.salesforceInput(parts);
    if (op === 'UPSERT' && !input) {
      // a child before its parent (a line before its order): keep it until the main part arrives, and
      // remember its position, so that it delivered again later is a duplicate, not a newer image
      keep({ ...next, rec: seen(state.rec, msg.key, msg, policy.seenPositions) });
      return [];
    }
    // this decision takes every image of its side, those of a gathered run too
    const gathered = { ...next.gathered };
    delete gathered[msg.origin];
    const lastSame = shopSide ? state.rec?.lastFromShop : state.rec?.lastFromSalesforce;
    const change: SideChange = {
      origin: msg.origin, op, recordId: msg.recordId, sourcePosition: msg.sourcePosition, transactionId: msg.transactionId,
      // a backfilled image joins kept images that may be more recent: the record they make is as of the newest
      eventTime: msg.backfill ? Math.max(msg.eventTime, lastSame?.eventTime ?? 0) : msg.eventTime,
      sourceVersion: msg.sourceVersion, changeOrigin: msg.changeOrigin, ours: msg.ours, backfill: msg.backfill, stale, repair: msg.repair,
    };
    const deciding: EntityState = { ...next, [shopSide ? 'shop' : 'salesforce']: parts, gathered: Object.keys(gathered).length ? gathered : undefined };
    const decided = await decideFromImages(flow, msg.key, deciding, change, envFor(ctx.log, Date.now()));
    // a stale image is not kept: the record is only read for what it says the backfill wrote
    keep(stale ? { ...decided.state, shop: state.shop, salesforce: state.salesforce } : decided.state);
    return decided.outputs;
  }

  /**
   * Decides the gathered runs, writes the stock windows that are due (all of them when `final`: a
   * graceful stop flushes), and alerts the watched states open longer than their delay.
   */
  async function punctuate(ctx: WindowContext): Promise<Output[]> {
    const gathered = await flushGathered(ctx, flows, envFor(ctx.log, ctx.now));
    return [
      ...gathered,
      ...await flushDueWindows(ctx, flows, config.shopId, names, encode),
      ...await raiseOverdue(ctx, flows, config.shopId, names, encode, onAlert),
    ];
  }

  // a tenth of the shortest stock window or watch delay, a fifth of the shortest gather time; between 100 ms and 5 s
  const ticks = [...flows.values()].flatMap((f) => [
    ...(f.policy.master === 'BOTH' && f.policy.windowMs > 0 ? [f.policy.windowMs / 10] : []),
    ...(f.policy.watch ? [f.policy.watch.afterMs / 10] : []),
    ...(gatherMsOf(f) > 0 ? [gatherMsOf(f) / 5] : []),
  ]);
  return {
    topics: [...flows.keys()].map(names.routed),
    handle,
    /** How often due windows and runs are looked for (null: no entity needs it). */
    punctuateIntervalMs: ticks.length === 0 ? null : Math.min(5_000, Math.max(100, Math.min(...ticks))),
    punctuate,
  };
}
