import type { Connection } from 'jsforce';
import type { ShopforceConfig } from '../config/schema.ts';
import { readDebeziumEvent, type ShopRowChange } from '../entities/debezium.ts';
import { entityKey } from '../entities/keys.ts';
import { enabledEntities } from '../entities/index.ts';
import type { ParentKeyLookup, PartSpec } from '../entities/parts.ts';
import type { RoutedChange } from '../flows/routed-change.ts';
import { topicNames } from '../flows/topic-names.ts';
import { PoisonRecordError } from '../kafka/errors.ts';
import type { Output, RecordContext } from '../kafka/types.ts';
import type { SfCdcMessage } from '../salesforce/source/types.ts';

interface Route { entity: string; part: string; spec: PartSpec }

/**
 * The raw topics the router reads: Debezium's per-table topics and the Salesforce source's per-object topics.
 * A shop table may be a part of several entities (payments: the payment's own record, and the order's
 * payment status), so a shop topic has one route per entity reading it.
 */
export function routerTopics(config: ShopforceConfig): { shop: Map<string, Route[]>; salesforce: Map<string, Route> } {
  const names = topicNames(config.kafka.topicNamespace);
  const shop = new Map<string, Route[]>();
  const salesforce = new Map<string, Route>();
  for (const { flow } of enabledEntities(config)) {
    for (const [table, spec] of Object.entries(flow.shop)) {
      const topic = `${config.kafka.shopTopicPrefix}.${config.shop.schema}.${table}`;
      shop.set(topic, [...(shop.get(topic) ?? []), { entity: flow.entity, part: table, spec }]);
    }
    for (const [object, spec] of Object.entries(flow.salesforce)) {
      const topic = `${names.sfCdcPrefix}.${object}`;
      const taken = salesforce.get(topic);
      if (taken) throw new Error(`entities.${flow.entity}: Salesforce object ${object} is already read by the ${taken.entity} flow`);
      salesforce.set(topic, { entity: flow.entity, part: object, spec });
    }
  }
  return { shop, salesforce };
}

/** What the router asks outside Kafka. */
export interface RouterLookups {
  /** A parent record's key field, by REST (PricebookEntry -> Product2.Sku__c). */
  lookupParent?: (object: string, id: string, field: string) => Promise<string | undefined>;
  /** Whether a shop transaction (Debezium source.txId) was made by our shop sink; absent: unknown. */
  isShopSinkTransaction?: (txId: string) => Promise<boolean>;
}

/** True when a Salesforce changeOrigin names our integration's client (`...;client=<name>`). */
export function isOurChangeOrigin(changeOrigin: string | null | undefined, client: string): boolean {
  if (!changeOrigin) return false;
  return changeOrigin.split(';').some((part) => part.trim() === `client=${client}`);
}

/**
 * The router: re-keys raw changes (Debezium rows keyed by primary key, Salesforce events keyed by
 * record id) by entity key onto sync.in.<entity>, so one processor partition sees every change of
 * an entity from both sides, in order. Its state remembers record id -> entity key (a Salesforce
 * DELETE carries no fields) and the parent fields it had to look up (PricebookEntry -> Product2.Sku__c,
 * Invoice__c -> Opportunity.Shop_Order_Id__c).
 */
export function createRouter(config: ShopforceConfig, lookups: RouterLookups = {}) {
  const lookupParent = lookups.lookupParent ?? (async () => undefined);
  const { shop, salesforce } = routerTopics(config);
  const names = topicNames(config.kafka.topicNamespace);

  function fromShop(change: ShopRowChange, route: Route, ours: boolean | null): RoutedChange {
    const parts = route.spec.key?.(change.row);
    if (!parts) throw new PoisonRecordError(`${change.table} row ${String(change.row.id)} has no business key for ${route.entity}`);
    return {
      entity: route.entity, key: entityKey(config.shopId, ...parts), origin: 'SHOP', part: route.part, op: change.op, image: change.row,
      recordId: String(change.row.id ?? parts.join('|')), sourcePosition: change.sourcePosition, transactionId: change.transactionId,
      eventTime: change.eventTime, sourceVersion: change.sourceVersion, changeOrigin: null, ours,
    };
  }

  async function shopChanges(ctx: RecordContext<unknown, string>, routes: Route[]): Promise<RoutedChange[]> {
    const change = readDebeziumEvent(ctx.value);
    if (!change) return [];
    // a shop database may hold several shops: this pipeline syncs its own (config.shopId) only
    if (typeof change.row.shop_id === 'string' && change.row.shop_id !== config.shopId) return [];
    const ours = lookups.isShopSinkTransaction ? await lookups.isShopSinkTransaction(change.transactionId) : null;
    return routes.map((route) => fromShop(change, route, ours));
  }

  /** A parent record's field by the lookup id, from the router's cache or by REST (then cached). */
  async function parentValue(ctx: RecordContext<unknown, string>, lookup: ParentKeyLookup, parentId: unknown): Promise<string | undefined> {
    if (typeof parentId !== 'string' || parentId === '') return undefined;
    const cacheKey = `parent:${parentId}:${lookup.keyField}`;
    const cached = ctx.state.get(cacheKey);
    if (cached !== undefined) return cached;
    const value = await lookupParent(lookup.object, parentId, lookup.keyField);
    if (value !== undefined) ctx.state.set(cacheKey, value);
    return value;
  }

  async function fromSalesforce(ctx: RecordContext<unknown, string>, route: Route): Promise<RoutedChange | null> {
    const msg = ctx.value as SfCdcMessage;
    const deleted = msg.changeType === 'DELETE' || msg.changeType === 'GAP_DELETE' || msg.record === null;
    const remembered = ctx.state.get(`id:${msg.recordId}`);
    let key: string | undefined;
    let image = msg.record;
    if (image) {
      let parts = route.spec.key?.(image);
      const parent = route.spec.parentKey;
      if (!parts && parent) {
        const value = await parentValue(ctx, parent, image[parent.viaField]);
        parts = value === undefined ? undefined : [value];
      }
      if (parts) key = entityKey(config.shopId, ...parts);
      for (const lookup of route.spec.parentFields ?? []) {
        const value = await parentValue(ctx, lookup, image[lookup.viaField]);
        if (value !== undefined) image = { ...image, [lookup.as]: value };
      }
    }
    key ??= remembered;
    if (!key) {
      if (deleted) return null; // a record we never synced went away: nothing to do
      throw new PoisonRecordError(`${route.part} ${msg.recordId} has no business key for ${route.entity} (external id empty)`);
    }
    if (deleted) ctx.state.delete(`id:${msg.recordId}`);
    else if (remembered !== key) ctx.state.set(`id:${msg.recordId}`, key);
    const header = msg.ChangeEventHeader;
    return {
      entity: route.entity, key, origin: 'SALESFORCE', part: route.part, op: deleted ? 'DELETE' : 'UPSERT', image,
      recordId: msg.recordId, sourcePosition: `sf:${msg.position}`, transactionId: header.transactionKey || msg.position,
      eventTime: header.commitTimestamp, sourceVersion: header.commitNumber ?? null, changeOrigin: header.changeOrigin ?? null,
      ours: isOurChangeOrigin(header.changeOrigin, config.salesforce.callOptionsClient),
    };
  }

  return {
    topics: [...shop.keys(), ...salesforce.keys()],
    async handle(ctx: RecordContext<unknown, string>): Promise<Output[]> {
      if (ctx.value === null) return [];
      const shopRoutes = shop.get(ctx.topic);
      const routed = shopRoutes
        ? await shopChanges(ctx, shopRoutes)
        : [await fromSalesforce(ctx, salesforce.get(ctx.topic)!)].filter((r): r is RoutedChange => r !== null);
      if (routed.length === 0) return [];
      ctx.setSourceTime(routed[0]!.eventTime);
      return routed.map((r) => ({ topic: names.routed(r.entity), key: r.key, value: JSON.stringify(r) }));
    },
  };
}

/** Parent key lookups by REST (one field of one record), for parts keyed through a parent. */
export function restParentLookup(conn: () => Promise<Connection>) {
  return async (object: string, id: string, field: string): Promise<string | undefined> => {
    const record = (await (await conn()).sobject(object).retrieve(id, { fields: [field] } as any)) as Record<string, unknown>;
    const value = record?.[field];
    return value === null || value === undefined ? undefined : String(value);
  };
}
