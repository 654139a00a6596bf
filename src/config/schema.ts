/**
 * The processor configuration: one YAML/JSON file, secrets from the environment through ${VAR}
 * references. Every field carries a description; docs/configuration.md is rendered from this schema.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { CANONICAL_FIELDS, isMappableField } from '../entities/fields.ts';
import type { EntityName } from '../entities/types.ts';
import { alertsSchema } from '../observability/alerts/config.ts';

const side = z.enum(['shop', 'salesforce']);
const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'must be an identifier (letters, digits, _)' });
const sfName = z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, { error: 'must be a Salesforce API name' });

export const TRANSFORMS = ['none', 'trim', 'lowercase', 'uppercase', 'negate'] as const;

export const fieldMappingSchema = z.strictObject({
  canonical: z.string().describe('Canonical field (see schemas/<entity>.avsc), or extra.<name> for a field kept in the record\'s extra map.'),
  shop: identifier.optional().describe('Column in the entity\'s main shop table; omit when the shop side does not hold the field.'),
  salesforce: z.string().regex(/^[A-Za-z][A-Za-z0-9_]*\.[A-Za-z][A-Za-z0-9_]*$/, { error: 'must be Object.Field, e.g. Contact.Email' })
    .optional().describe('Salesforce field as Object.Field (e.g. Contact.Email); omit when Salesforce does not hold the field.'),
  transform: z.enum(TRANSFORMS).default('none').describe('trim, lowercase, uppercase: applied on read from either side; negate: a boolean inverted on the Salesforce side (e.g. HasOptedOutOfEmail).'),
  valueMap: z.record(z.string(), z.string()).optional().describe('Shop value -> Salesforce value (e.g. order status -> StageName); reversed when reading from Salesforce.'),
  master: side.optional().describe('Side that owns this field; overrides the entity\'s master.'),
});
export type FieldMappingConfig = z.infer<typeof fieldMappingSchema>;

interface EntityDefaults {
  shopTables: string[];
  salesforceObjects: string[];
  externalIds: Record<string, string>;
  master: 'shop' | 'salesforce' | 'both';
  fieldMasters?: Record<string, 'shop' | 'salesforce'>;
  deletePolicy: 'propagate' | 'ignore' | 'deactivate';
}

function entitySchema<E extends EntityName, X extends z.ZodRawShape>(entity: E, d: EntityDefaults, extra: X) {
  return z.strictObject({
    enabled: z.boolean().default(false).describe(`Run the ${entity} flow.`),
    shopTables: z.array(identifier).min(1).default(d.shopTables).describe('Shop tables of the entity, main table first.'),
    salesforceObjects: z.array(sfName).min(1).default(d.salesforceObjects).describe('Salesforce objects of the entity, main object first.'),
    externalIds: z.record(sfName, sfName).default(d.externalIds).describe('External id field per Salesforce object (object -> field).'),
    master: z.enum(['shop', 'salesforce', 'both']).default(d.master).describe('Side that owns the entity; "both" only for stock (delta merge).'),
    fieldMasters: z.record(z.string(), side).default(d.fieldMasters ?? {}).describe('Per-field owner overriding master (canonical field -> side).'),
    conflictPolicy: z.enum(['reassert-master', 'accept']).default('reassert-master')
      .describe('A change on the non-master side: reassert-master writes the master\'s value back; accept takes the change and sends it to the master.'),
    deletePolicy: z.enum(['propagate', 'ignore', 'deactivate']).default(d.deletePolicy)
      .describe('A delete on the master side: propagate deletes on the other side, deactivate marks inactive, ignore keeps it.'),
    fields: z.array(fieldMappingSchema).default([]).describe('Field mappings added to (or replacing, by canonical name) the built-in ones.'),
    ...extra,
  }).superRefine((cfg, ctx) => refineEntity(entity, cfg as unknown as BaseEntityConfig, ctx));
}

interface BaseEntityConfig {
  salesforceObjects: string[];
  externalIds: Record<string, string>;
  master: 'shop' | 'salesforce' | 'both';
  fieldMasters: Record<string, string>;
  fields: FieldMappingConfig[];
}

function refineEntity(entity: EntityName, cfg: BaseEntityConfig, ctx: z.RefinementCtx): void {
  const known = CANONICAL_FIELDS[entity];
  for (const f of Object.keys(cfg.fieldMasters)) {
    if (!(f in known)) ctx.addIssue({ code: 'custom', path: ['fieldMasters', f], message: `unknown ${entity} field "${f}" (known: ${Object.keys(known).join(', ')})` });
  }
  cfg.fields.forEach((m, i) => {
    if (!isMappableField(entity, m.canonical)) {
      ctx.addIssue({ code: 'custom', path: ['fields', i, 'canonical'], message: `"${m.canonical}" is not a mappable ${entity} field (known: ${Object.keys(known).filter((k) => known[k] !== 'nested').join(', ')}, or extra.<name>)` });
    }
    if (!m.shop && !m.salesforce) ctx.addIssue({ code: 'custom', path: ['fields', i], message: 'a mapping needs shop, salesforce or both' });
    if (m.salesforce && !cfg.salesforceObjects.includes(m.salesforce.split('.')[0])) {
      ctx.addIssue({ code: 'custom', path: ['fields', i, 'salesforce'], message: `object "${m.salesforce.split('.')[0]}" is not in salesforceObjects (${cfg.salesforceObjects.join(', ')})` });
    }
  });
  if (cfg.master === 'both' && entity !== 'stock') {
    ctx.addIssue({ code: 'custom', path: ['master'], message: 'master "both" (delta merge) is only supported for stock' });
  }
  if (!(cfg.salesforceObjects[0] in cfg.externalIds)) {
    ctx.addIssue({ code: 'custom', path: ['externalIds'], message: `needs an external id field for ${cfg.salesforceObjects[0]}` });
  }
}

const DEFAULT_STAGES: Record<string, string> = {
  pending: 'Prospecting', awaiting_payment: 'Proposal/Price Quote', paid: 'Closed Won', fulfilled: 'Closed Won',
  shipped: 'Closed Won', delivered: 'Closed Won', completed: 'Closed Won', cancelled: 'Closed Lost', refunded: 'Closed Lost',
};

export const entitiesSchema = z.strictObject({
  customer: entitySchema('customer', {
    shopTables: ['customers', 'addresses'], salesforceObjects: ['Account', 'Contact'],
    externalIds: { Account: 'Shop_Customer_Id__c', Contact: 'Shop_Customer_Id__c' }, master: 'shop',
    fieldMasters: { creditStatus: 'salesforce' }, deletePolicy: 'ignore',
  }, {
    accountName: z.enum(['company-or-person', 'person']).default('company-or-person')
      .describe('Account.Name: the company when set, else "First Last"; or always the person.'),
  }).prefault({}).describe('Shop customers + addresses <-> Account + Contact.'),
  order: entitySchema('order', {
    shopTables: ['orders', 'order_lines'], salesforceObjects: ['Opportunity', 'OpportunityLineItem'],
    externalIds: { Opportunity: 'Shop_Order_Id__c', OpportunityLineItem: 'Shop_Line_Id__c' }, master: 'shop', deletePolicy: 'propagate',
  }, {
    stageMap: z.record(z.string(), z.string()).default(DEFAULT_STAGES).describe('Shop order status -> Opportunity.StageName.'),
    defaultStage: z.string().default('Prospecting').describe('StageName for a status not in stageMap.'),
    namePrefix: z.string().default('Order ').describe('Opportunity.Name = namePrefix + order number.'),
    pricebook: z.string().default('standard').describe('Price book whose entries the line items use ("standard" or a Pricebook2 name).'),
  }).prefault({}).describe('Shop orders + order lines -> Opportunity + OpportunityLineItems.'),
  product: entitySchema('product', {
    shopTables: ['products'], salesforceObjects: ['Product2', 'PricebookEntry'],
    externalIds: { Product2: 'Sku__c' }, master: 'salesforce', deletePolicy: 'deactivate',
  }, {
    defaultCurrency: z.string().regex(/^[A-Z]{3}$/, { error: 'must be an ISO 4217 code like EUR' }).default('EUR')
      .describe('Currency of prices when the org has no multi-currency (no CurrencyIsoCode).'),
    pricebook: z.string().default('standard').describe('Price book whose entries carry the shop price.'),
  }).prefault({}).describe('Salesforce Product2 + standard PricebookEntry -> shop products.'),
  stock: entitySchema('stock', {
    shopTables: ['stock_levels'], salesforceObjects: ['Stock_Level__c'],
    externalIds: { Stock_Level__c: 'Stock_Key__c' }, master: 'both', deletePolicy: 'ignore',
  }, {
    windowMs: z.number().int().min(1000).max(3_600_000).default(300_000)
      .describe('Stock changes are merged per SKU and warehouse and written once per window (ms; 5-15 min typical).'),
  }).prefault({}).describe('Stock per SKU and warehouse, both sides, delta merge.'),
  payment: entitySchema('payment', {
    shopTables: ['payments'], salesforceObjects: ['Payment__c'],
    externalIds: { Payment__c: 'Provider_Transaction_Id__c' }, master: 'shop', deletePolicy: 'ignore',
  }, {}).prefault({}).describe('Shop payments -> Payment__c.'),
  invoice: entitySchema('invoice', {
    shopTables: ['invoices'], salesforceObjects: ['Invoice__c'],
    externalIds: { Invoice__c: 'Invoice_Number__c' }, master: 'salesforce', deletePolicy: 'ignore',
  }, {}).prefault({}).describe('Salesforce Invoice__c -> shop invoices.'),
  support_ticket: entitySchema('support_ticket', {
    shopTables: ['support_tickets'], salesforceObjects: ['Case'],
    externalIds: { Case: 'Shop_Ticket_Id__c' }, master: 'shop', deletePolicy: 'ignore',
  }, {}).prefault({}).describe('Shop support tickets -> Case.'),
  campaign_segment: entitySchema('campaign_segment', {
    shopTables: ['customer_segments', 'segment_members'], salesforceObjects: ['Campaign', 'CampaignMember'],
    externalIds: { Campaign: 'Shop_Segment_Id__c' }, master: 'salesforce', deletePolicy: 'propagate',
  }, {}).prefault({}).describe('Salesforce Campaign + CampaignMember -> shop segments.'),
});

const urlString = z.url({ error: 'must be a URL' });

export const configSchema = z.strictObject({
  shopId: z.string().regex(/^[A-Za-z0-9_-]+$/, { error: 'letters, digits, - and _ only' }).default('shop-1')
    .describe('Shop id; the first part of every key.'),
  kafka: z.strictObject({
    brokers: z.array(z.string().regex(/^[^\s:]+:\d+$/, { error: 'must be host:port' })).min(1).describe('Bootstrap servers (host:port).'),
    clientId: z.string().min(1).default('shopforce').describe('Kafka client id.'),
    groupIdPrefix: z.string().min(1).default('shopforce').describe('Consumer group ids are <prefix>.<processor>.'),
    shopTopicPrefix: z.string().default('shop').describe('Debezium topic.prefix: raw shop CDC is on <prefix>.<schema>.<table>.'),
    partitions: z.number().int().min(1).default(6).describe('Partitions of the topics shopforce creates.'),
    topicNamespace: z.string().regex(/^([A-Za-z0-9._-]+)?$/, { error: 'letters, digits, ., _ and - only' }).default('')
      .describe('Prefix of every topic shopforce creates (<namespace>.sync.*, <namespace>.sf.*), to run separate pipelines on one cluster; empty: none.'),
  }).describe('Kafka cluster.'),
  registry: z.strictObject({
    url: urlString.describe('Confluent-compatible schema registry base URL.'),
  }).describe('Schema registry.'),
  shop: z.strictObject({
    databaseUrl: z.string().regex(/^postgres(ql)?:\/\//, { error: 'must be a postgres:// URL' })
      .describe('PostgreSQL URL of a role that may write the shop tables (secret: give it as ${SHOP_DATABASE_URL}).'),
    schema: identifier.default('public').describe('Schema of the shop tables.'),
  }).describe('Shop database.'),
  salesforce: z.strictObject({
    loginUrl: urlString.describe('Login URL (https://login.salesforce.com, https://test.salesforce.com, or the emulator).'),
    authType: z.enum(['jwt', 'client_credentials', 'password']).default('jwt').describe('OAuth flow: jwt (JWT bearer), client_credentials, or password (sandboxes only; being retired).'),
    clientId: z.string().min(1).describe('Connected app consumer key.'),
    clientSecret: z.string().min(1).optional().describe('Consumer secret (secret, from the environment); client_credentials and password flows.'),
    username: z.string().min(1).optional().describe('Integration user (jwt and password flows).'),
    password: z.string().min(1).optional().describe('Password + security token (secret, from the environment); password flow.'),
    privateKeyPath: z.string().min(1).optional().describe('PEM private key of the connected app certificate; jwt flow.'),
    apiVersion: z.string().regex(/^\d{2,3}\.0$/, { error: 'must look like 62.0' }).default('62.0').describe('REST API version.'),
    callOptionsClient: z.string().default('shopforce').describe('Sforce-Call-Options client name on our writes (shows in changeOrigin).'),
    caCertPath: z.string().optional().describe('Extra CA certificate to trust (the emulator\'s self-signed one).'),
    source: z.strictObject({
      mode: z.enum(['pubsub', 'streaming']).default('pubsub').describe('Change events through the Pub/Sub API (gRPC) or the Streaming API (CometD).'),
      pubsubEndpoint: z.string().regex(/^[^\s:/]+:\d+$/, { error: 'must be host:port' }).default('api.pubsub.salesforce.com:7443').describe('Pub/Sub API host:port.'),
      keepaliveTimeoutMs: z.number().int().positive().default(300_000).describe('A subscription silent this long is torn down and resumed.'),
    }).prefault({}).describe('Salesforce change event source.'),
  }).superRefine((sf, ctx) => {
    const need = (field: 'username' | 'privateKeyPath' | 'clientSecret' | 'password') => {
      if (!sf[field]) ctx.addIssue({ code: 'custom', path: [field], message: `required when authType is ${sf.authType}` });
    };
    if (sf.authType === 'jwt') { need('username'); need('privateKeyPath'); }
    if (sf.authType === 'client_credentials') need('clientSecret');
    if (sf.authType === 'password') { need('username'); need('password'); }
  }).describe('Salesforce org.'),
  sink: z.strictObject({
    lingerMs: z.number().int().min(0).max(60_000).default(200).describe('Salesforce sink waits this long to fill a batch (and coalesce repeats of one key).'),
    batchSize: z.number().int().min(1).max(200).default(200).describe('Records per sObject Collections call (Salesforce allows 200).'),
    bulkThreshold: z.number().int().min(1).default(2000).describe('Pending writes of one object above this go through Bulk API 2.0.'),
    quotaReservePercent: z.number().min(0).max(100).default(10).describe('Slow down when less than this share of the daily API quota remains.'),
    parentTimeoutMs: z.number().int().positive().default(300_000).describe('A child whose parent has not landed after this goes to the DLQ.'),
    maxRetries: z.number().int().min(0).default(8).describe('Retries of transient errors (5xx, UNABLE_TO_LOCK_ROW, timeouts) before the DLQ.'),
    shopBatchSize: z.number().int().min(1).default(500).describe('Rows per shop sink transaction.'),
  }).prefault({}).describe('Sink tuning.'),
  reconcile: z.strictObject({
    seenPositions: z.number().int().min(1).max(10_000).default(64).describe('Source positions remembered per key for duplicate detection.'),
    maxInFlight: z.number().int().min(1).default(32).describe('Unacknowledged writes remembered per key for echo detection.'),
    inFlightTtlMs: z.number().int().min(1000).default(600_000).describe('A write not seen back from its target within this time (source clock) is no longer expected as an echo.'),
  }).prefault({}).describe('Reconciler state.'),
  observability: z.strictObject({
    metricsPort: z.number().int().min(0).max(65535).default(9464).describe('Port of /metrics, /healthz, /readyz (0: ephemeral).'),
    metricsHost: z.string().refine((h) => isIP(h) !== 0 || /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(h), { error: 'must be an IP address or a host name' }).default('127.0.0.1')
      .describe('Address /metrics, /healthz, /readyz listen on: 127.0.0.1 (this machine only), 0.0.0.0 (every interface, e.g. in a container).'),
    accessToken: z.string().min(16, { error: 'must be at least 16 characters' }).optional()
      .describe('When set, /metrics, /healthz and /readyz need "Authorization: Bearer <token>" (secret: give it as ${VAR}).'),
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info').describe('Log level, unless --log-level or LOG_LEVEL sets one.'),
    alerts: alertsSchema.prefault({}).describe('Delivery of reconcile alerts to webhooks (src/observability/alerts/config.ts).'),
  }).prefault({}).describe('Metrics, health, logs and alerts.'),
  entities: entitiesSchema.prefault({}).describe('Flows: mapping and policy of each entity.'),
});

export type ShopforceConfig = z.infer<typeof configSchema>;
export type EntitiesConfig = ShopforceConfig['entities'];
export type EntityConfig = EntitiesConfig[EntityName];
export type CustomerConfig = EntitiesConfig['customer'];
export type OrderConfig = EntitiesConfig['order'];
export type ProductConfig = EntitiesConfig['product'];
export type StockConfig = EntitiesConfig['stock'];

/** Dotted paths of fields that are secrets: they must come from the environment, never the file. */
export const SECRET_PATHS = ['shop.databaseUrl', 'salesforce.clientSecret', 'salesforce.password', 'observability.accessToken', 'observability.alerts.webhooks.*.url', 'observability.alerts.webhooks.*.headers.*'] as const;
