import type { Connection } from 'jsforce';
import type { ShopforceConfig } from '../config/schema.ts';
import { readDebeziumEvent } from '../entities/debezium.ts';
import { entityKey } from '../entities/keys.ts';
import { enabledEntities } from '../entities/index.ts';
import type { PartSpec } from '../entities/parts.ts';
import type { RoutedChange } from '../flows/routed-change.ts';
import { topicNames } from '../flows/topic-names.ts';
import { PoisonRecordError } from '../kafka/errors.ts';
import type { Output, RecordContext } from '../kafka/types.ts';
import type { SfCdcMessage } from '../salesforce/source/types.ts';

interface Route { entity: string; part: string; spec: PartSpec }

/** The raw topics the router reads: Debezium's per-table topics and the Salesforce source's per-object topics. */
export function routerTopics(config: ShopforceConfig): { shop: Map<string, Route>; salesforce: Map<string, Route> } {
  const names = topicNames(config.kafka.topicNamespace);
  const shop = new Map<string, Route>();
  const salesforce = new Map<string, Route>();
  for (const { flow } of enabledEntities(config)) {
    for (const [table, spec] of Object.entries(flow.shop)) shop.set(`${config.kafka.shopTopicPrefix}.${config.shop.schema}.${table}`, { entity: flow.entity, part: table, spec });
    for (const [object, spec] of Object.entries(flow.salesforce)) salesforce.set(`${names.sfCdcPrefix}.${object}`, { entity: flow.entity, part: object, spec });
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
 * DELETE carries no fields) and parent keys it had to look up (PricebookEntry -> Product2.Sku__c).
 */
export function createRouter(config: ShopforceConfig, lookups: RouterLookups = {}) {
  const lookupParent = lookups.lookupParent ?? (async () => undefined);
  const { shop, salesforce } = routerTopics(config);
  const names = topicNames(config.kafka.topicNamespace);

  async function fromShop(ctx: RecordContext<unknown, string>, route: Route): Promise<RoutedChange | null> {
    const change = readDebeziumEvent(ctx.value);
    if (!change) return null;
    // a shop database may hold several shops: this pipeline syncs its own (config.shopId) only
    if (typeof change.row.shop_id === 'string' && change.row.shop_id !== config.shopId) return null;
    const parts = route.spec.key?.(change.row);
    if (!parts) throw new PoisonRecordError(`${change.table} row ${String(change.row.id)} has no business key for ${route.entity}`);
    const shopId = config.shopId;
    return {
      entity: route.entity, key: entityKey(shopId, ...parts), origin: 'SHOP', part: route.part, op: change.op, image: change.row,
      recordId: String(change.row.id ?? parts.join('|')), sourcePosition: change.sourcePosition, transactionId: change.transactionId,
      eventTime: change.eventTime, sourceVersion: change.sourceVersion, changeOrigin: null,
      ours: lookups.isShopSinkTransaction ? await lookups.isShopSinkTransaction(change.transactionId) : null,
    };
  }

  async function fromSalesforce(ctx: RecordContext<unknown, string>, route: Route): Promise<RoutedChange | null> {
    const msg = ctx.value as SfCdcMessage;
    const deleted = msg.changeType === 'DELETE' || msg.changeType === 'GAP_DELETE' || msg.record === null;
    const remembered = ctx.state.get(`id:${msg.recordId}`);
    let key: string | undefined;
    if (msg.record) {
      // several shops may sync into one org: this pipeline syncs the records its own shop wrote (keys.ts)
      const owner = route.spec.shop?.(msg.record);
      if (owner !== undefined && owner !== config.shopId) return null;
      let parts = route.spec.key?.(msg.record);
      const parent = route.spec.parentKey;
      if (!parts && parent) {
        const parentId = msg.record[parent.viaField];
        const cached = typeof parentId === 'string' ? ctx.state.get(`parent:${parentId}`) : undefined;
        const value = cached ?? (typeof parentId === 'string' ? await lookupParent(parent.object, parentId, parent.keyField) : undefined);
        if (value !== undefined && typeof parentId === 'string') ctx.state.set(`parent:${parentId}`, value);
        parts = value === undefined ? undefined : [value];
      }
      if (parts) key = entityKey(config.shopId, ...parts);
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
      entity: route.entity, key, origin: 'SALESFORCE', part: route.part, op: deleted ? 'DELETE' : 'UPSERT', image: msg.record,
      recordId: msg.recordId, sourcePosition: `sf:${msg.position}`, transactionId: header.transactionKey || msg.position,
      eventTime: header.commitTimestamp, sourceVersion: header.commitNumber ?? null, changeOrigin: header.changeOrigin ?? null,
      ours: isOurChangeOrigin(header.changeOrigin, config.salesforce.callOptionsClient),
    };
  }

  return {
    topics: [...shop.keys(), ...salesforce.keys()],
    async handle(ctx: RecordContext<unknown, string>): Promise<Output[]> {
      if (ctx.value === null) return [];
      const shopRoute = shop.get(ctx.topic);
      const routed = shopRoute ? await fromShop(ctx, shopRoute) : await fromSalesforce(ctx, salesforce.get(ctx.topic)!);
      if (!routed) return [];
      ctx.setSourceTime(routed.eventTime);
      return [{ topic: names.routed(routed.entity), key: routed.key, value: JSON.stringify(routed) }];
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
