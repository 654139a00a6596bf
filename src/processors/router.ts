import type { Connection } from 'jsforce';
import type { ShopforceConfig } from '../config/schema.ts';
import { debeziumTransactionId, readDebeziumEvent, type ShopRowChange } from '../entities/debezium.ts';
import { entityKey } from '../entities/keys.ts';
import { enabledEntities, type EnabledEntity } from '../entities/index.ts';
import { parentFieldName, type ParentKeyLookup, type PartSpec } from '../entities/parts.ts';
import { salesforcePosition, type RoutedChange } from '../flows/routed-change.ts';
import { topicNames } from '../flows/topic-names.ts';
import { PoisonRecordError } from '../kafka/errors.ts';
import type { Output, PrefetchContext, RecordContext } from '../kafka/types.ts';
import { Lru } from '../salesforce/sink/lru.ts';
import { inChunks, soqlString } from '../salesforce/sink/soql.ts';
import type { SfCdcMessage } from '../salesforce/source/types.ts';

interface Route {
  entity: string;
  part: string;
  spec: PartSpec;
  /** A shop row read as its entity will read it (throws a ValueError naming every bad column). */
  read?: (row: Record<string, unknown>) => void;
}

/**
 * Reads a shop row the way its entity's reconciler will, alone (no other part, no previous record): a
 * row of the wrong shape (an object where text belongs, a word where a boolean does) fails here, and
 * its dead letter names the raw record it came in and every bad column. A child row that needs its
 * parent part (a line without its order) is read when the reconciler has both.
 */
function readAlone(entity: EnabledEntity, spec: PartSpec): (row: Record<string, unknown>) => void {
  return (row) => {
    const input = entity.flow.shopInput(spec.many ? { [spec.as]: { row } } : { [spec.as]: row });
    if (input) entity.mapping.fromShopRow(input, null);
  };
}

/**
 * The raw topics the router reads: Debezium's per-table topics and the Salesforce source's per-object topics.
 * A shop table may be a part of several entities (payments: the payment's own record, and the order's
 * payment status), so a shop topic has one route per entity reading it.
 */
export function routerTopics(config: ShopforceConfig): { shop: Map<string, Route[]>; salesforce: Map<string, Route> } {
  const names = topicNames(config.kafka.topicNamespace);
  const shop = new Map<string, Route[]>();
  const salesforce = new Map<string, Route>();
  for (const entity of enabledEntities(config)) {
    const { flow } = entity;
    for (const [table, spec] of Object.entries(flow.shop)) {
      const topic = `${config.kafka.shopTopicPrefix}.${config.shop.schema}.${table}`;
      shop.set(topic, [...(shop.get(topic) ?? []), { entity: flow.entity, part: table, spec, read: readAlone(entity, spec) }]);
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

/**
 * Values of one field of parent records, many ids per call: id -> value (an id absent from the map
 * has none). The router looks up PricebookEntry -> Product2.Sku__c, CampaignMember -> Contact.Shop_Customer_Id__c.
 */
export type ParentLookup = (object: string, field: string, ids: string[]) => Promise<Map<string, string>>;

/** What the router asks outside Kafka. */
export interface RouterLookups {
  /** Parent records' fields (one SOQL per object and field for a whole chunk of changes). */
  lookupParent?: ParentLookup;
  /** Whether a shop transaction (Debezium source.txId) was made by our shop sink; absent: unknown. */
  isShopSinkTransaction?: (txId: string) => Promise<boolean>;
  /** Looks up the shop transactions of a whole chunk of changes at once, so isShopSinkTransaction answers them from memory. */
  learnShopTransactions?: (txIds: string[]) => Promise<void>;
  /** Parent values kept in memory (least recently used forgotten first); default 100,000. */
  parentCacheSize?: number;
}

/** True when a Salesforce changeOrigin names our integration's client (`...;client=<name>`). */
export function isOurChangeOrigin(changeOrigin: string | null | undefined, client: string): boolean {
  if (!changeOrigin) return false;
  return changeOrigin.split(';').some((part) => part.trim() === `client=${client}`);
}

/** The parent lookups of a part: its key's, then the fields its mapping reads. */
function lookupsOf(spec: PartSpec): ParentKeyLookup[] {
  return [...(spec.parentKey ? [spec.parentKey] : []), ...(spec.parentFields ?? [])];
}

/** The image with only the fields the part keeps (PartSpec.fields). */
function kept(image: Record<string, unknown>, spec: PartSpec): Record<string, unknown> {
  if (!spec.fields) return image;
  return Object.fromEntries(spec.fields.filter((f) => f in image).map((f) => [f, image[f]]));
}

/**
 * The router: re-keys raw changes (Debezium rows keyed by primary key, Salesforce events keyed by
 * record id) by entity key onto sync.in.<entity>, so one processor partition sees every change of
 * an entity from both sides, in order. Its state remembers record id -> entity key (a Salesforce
 * DELETE carries no fields). Parent fields an image needs (its key on the parent, PricebookEntry ->
 * Product2.Sku__c, or a field its mapping reads, CampaignMember -> Contact.Shop_Customer_Id__c) are
 * looked up for a whole chunk at once (prefetch: one query per object and field) and kept in memory.
 */
export function createRouter(config: ShopforceConfig, lookups: RouterLookups = {}) {
  const lookupParent: ParentLookup = lookups.lookupParent ?? (async () => new Map());
  const { shop, salesforce } = routerTopics(config);
  const names = topicNames(config.kafka.topicNamespace);
  const parents = new Lru<string>(lookups.parentCacheSize ?? 100_000);
  const cacheKey = (l: ParentKeyLookup, id: string) => `${l.object}.${l.keyField}:${id}`;

  /** Looks up the parents not in memory yet, one call per object and field; remembers what it found. */
  async function fetchParents(wanted: Array<{ lookup: ParentKeyLookup; id: string }>): Promise<void> {
    const groups = new Map<string, { lookup: ParentKeyLookup; ids: Set<string> }>();
    for (const { lookup, id } of wanted) {
      if (parents.get(cacheKey(lookup, id)) !== undefined) continue;
      const group = `${lookup.object}.${lookup.keyField}`;
      if (!groups.has(group)) groups.set(group, { lookup, ids: new Set() });
      groups.get(group)!.ids.add(id);
    }
    for (const { lookup, ids } of groups.values()) {
      const found = await lookupParent(lookup.object, lookup.keyField, [...ids]);
      for (const [id, value] of found) parents.set(cacheKey(lookup, id), value);
    }
  }

  /** The parent ids an image points at, for each lookup of its part. */
  function parentIds(spec: PartSpec, image: Record<string, unknown>): Array<{ lookup: ParentKeyLookup; id: string }> {
    return lookupsOf(spec).flatMap((lookup) => {
      const id = image[lookup.viaField];
      return typeof id === 'string' && id !== '' ? [{ lookup, id }] : [];
    });
  }

  async function parentValue(lookup: ParentKeyLookup, image: Record<string, unknown>): Promise<string | undefined> {
    const id = image[lookup.viaField];
    if (typeof id !== 'string' || id === '') return undefined;
    if (parents.get(cacheKey(lookup, id)) === undefined) await fetchParents([{ lookup, id }]);
    return parents.get(cacheKey(lookup, id));
  }

  function fromShop(change: ShopRowChange, route: Route, ours: boolean | null): RoutedChange | null {
    const parts = route.spec.key?.(change.row);
    if (!parts) {
      if (route.spec.keyOptional) return null;
      throw new PoisonRecordError(`${change.table} row ${String(change.row.id)} has no business key for ${route.entity}`);
    }
    if (change.op === 'UPSERT') route.read?.(change.row);
    return {
      entity: route.entity, key: entityKey(config.shopId, ...parts), origin: 'SHOP', part: route.part, op: change.op, image: kept(change.row, route.spec),
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
    return routes.map((route) => fromShop(change, route, ours)).filter((r): r is RoutedChange => r !== null);
  }

  async function fromSalesforce(ctx: RecordContext<unknown, string>, route: Route): Promise<RoutedChange | null> {
    const msg = ctx.value as SfCdcMessage;
    const deleted = msg.changeType === 'DELETE' || msg.changeType === 'GAP_DELETE' || msg.record === null;
    const remembered = ctx.state.get(`id:${msg.recordId}`);
    let key: string | undefined;
    let image: Record<string, unknown> | null = null;
    if (msg.record) {
      image = { ...msg.record };
      for (const lookup of route.spec.parentFields ?? []) image[parentFieldName(lookup)] = (await parentValue(lookup, msg.record)) ?? null;
      // several shops may sync into one org: this pipeline syncs the records its own shop wrote (keys.ts)
      const owner = route.spec.shop?.(image);
      if (owner !== undefined && owner !== config.shopId) return null;
      let parts = route.spec.key?.(msg.record);
      if (!parts && route.spec.parentKey) {
        const value = await parentValue(route.spec.parentKey, msg.record);
        parts = value === undefined ? undefined : [value];
      }
      if (parts) key = entityKey(config.shopId, ...parts);
      image = kept(image, route.spec);
    }
    key ??= remembered;
    if (!key) {
      if (deleted || route.spec.keyOptional) return null; // a record we never synced went away, or not one of ours
      throw new PoisonRecordError(`${route.part} ${msg.recordId} has no business key for ${route.entity} (external id empty)`);
    }
    if (deleted) ctx.state.delete(`id:${msg.recordId}`);
    else if (remembered !== key) ctx.state.set(`id:${msg.recordId}`, key);
    const header = msg.ChangeEventHeader;
    return {
      entity: route.entity, key, origin: 'SALESFORCE', part: route.part, op: deleted ? 'DELETE' : 'UPSERT', image,
      recordId: msg.recordId, sourcePosition: salesforcePosition(msg.object, msg.position), transactionId: header.transactionKey || msg.position,
      eventTime: header.commitTimestamp, sourceVersion: header.commitNumber ?? null, changeOrigin: header.changeOrigin ?? null,
      ours: isOurChangeOrigin(header.changeOrigin, config.salesforce.callOptionsClient),
    };
  }

  return {
    topics: [...shop.keys(), ...salesforce.keys()],
    /**
     * Looks up what a chunk needs outside Kafka, in one go: whether its shop changes' transactions are
     * our shop sink's (one query), or the parents its Salesforce changes point at (one call per object and field).
     */
    async prefetch(ctx: PrefetchContext<unknown, string>): Promise<void> {
      if (shop.has(ctx.topic)) {
        if (lookups.learnShopTransactions) await lookups.learnShopTransactions(ctx.values.map(debeziumTransactionId).filter((id): id is string => id !== null));
        return;
      }
      const route = salesforce.get(ctx.topic);
      if (!route || lookupsOf(route.spec).length === 0) return;
      const wanted = ctx.values.flatMap((v) => {
        const record = (v as SfCdcMessage | null)?.record;
        return record ? parentIds(route.spec, record) : [];
      });
      await fetchParents(wanted);
    },
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

/** Parent fields by SOQL (`SELECT Id, <field> FROM <object> WHERE Id IN (...)`, 200 ids a query). */
export function restParentLookup(conn: () => Promise<Connection>): ParentLookup {
  return async (object, field, ids) => {
    const found = new Map<string, string>();
    const c = await conn();
    for (const chunk of inChunks([...new Set(ids)])) {
      const soql = `SELECT Id, ${field} FROM ${object} WHERE Id IN (${chunk.map(soqlString).join(', ')})`;
      const res = await c.query<Record<string, unknown>>(soql).run({ autoFetch: true, maxFetch: chunk.length });
      for (const record of res.records) {
        const value = record[field];
        if (value !== null && value !== undefined && value !== '') found.set(String(record.Id), String(value));
      }
    }
    return found;
  };
}
