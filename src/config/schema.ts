/**
 * The processor configuration: one YAML/JSON file, secrets from the environment through ${VAR}
 * references. Every field carries a description; docs/configuration.md is rendered from this schema.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { driftEntityIssues, driftSchema } from '../drift/config.ts';
import { entitiesSchema, ENTITY_NAMES, type EntityName } from '../entities/index.ts';
import { identifier, sidesMastering, type BaseEntityConfig } from '../entities/config-section.ts';
import { alertsSchema } from '../observability/alerts/config.ts';
import { kafkaSaslSchema, kafkaSslSchema, replicationSchema } from '../kafka/security-config.ts';

const urlString = z.url({ error: 'must be a URL' });

/**
 * How a transactional stage commits: larger transactions cost fewer commits (a commit waits for the
 * broker, ~5-300 ms) but hold more records back until the commit and redo more after a crash;
 * partitions in parallel overlap one partition's commit with another's records.
 */
function stageTuning(records: number, stage: string) {
  return z.strictObject({
    recordsPerTransaction: z.number().int().min(1).max(10_000).default(records)
      .describe(`Records of one partition per Kafka transaction of ${stage}; never more than one fetched batch.`),
    partitionsInParallel: z.number().int().min(1).max(256).default(1)
      .describe('Partitions handled at once, each with its own transactions (1: one after the other).'),
  }).prefault({});
}

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
    ssl: kafkaSslSchema.prefault({}).describe('TLS to the brokers (listeners of type SSL or SASL_SSL).'),
    sasl: kafkaSaslSchema.optional().describe('SASL login to the brokers (listeners of type SASL_SSL, or SASL_PLAINTEXT); none: no login.'),
    replication: replicationSchema.prefault({}).describe('Replication factor of the topics shopforce creates, per class of topic (a production cluster: 3).'),
    dlqRetentionMs: z.number().int().min(-1).default(-1)
      .describe('retention.ms of the dead-letter topic when run creates it: -1 (default) keeps dead letters until `dlq purge` removes them; a dead letter past it is gone without being replayed.'),
  }).describe('Kafka cluster.'),
  registry: z.strictObject({
    url: urlString.describe('Confluent-compatible schema registry base URL.'),
    username: z.string().min(1).optional().describe('HTTP basic auth user of the registry; none: no auth.'),
    password: z.string().min(1).optional().describe('HTTP basic auth password of the registry (secret: give it as ${VAR}).'),
  }).superRefine((r, ctx) => {
    if (r.username && !r.password) ctx.addIssue({ code: 'custom', path: ['password'], message: 'required when registry.username is set' });
    if (r.password && !r.username) ctx.addIssue({ code: 'custom', path: ['username'], message: 'required when registry.password is set' });
  }).describe('Schema registry.'),
  shop: z.strictObject({
    databaseUrl: z.string().regex(/^postgres(ql)?:\/\//, { error: 'must be a postgres:// URL' })
      .describe('PostgreSQL URL of a role that may write the shop tables (secret: give it as ${SHOP_DATABASE_URL}).'),
    schema: identifier.default('public').describe('Schema of the shop tables.'),
    statementTimeoutMs: z.number().int().min(100).max(3_600_000).default(30_000)
      .describe('statement_timeout of the shop sink\'s writes: a write that waits longer (a row lock held by another session) is cancelled by the server (SQLSTATE 57014) and the shop sink pauses, instead of leaving it running beside its retry.'),
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
    callsInFlight: z.number().int().min(1).max(50).default(4).describe('Calls the Salesforce sink has in flight at once, across objects and overlapping flushes (Collections calls, Bulk API 2.0 jobs). A real org takes seconds per call of 200; it serves at most 25 calls of 20 s or longer at once, so beyond 25 no call starts while one has run 10 s.'),
    bulkJobsInFlight: z.number().int().min(1).max(25).default(1).describe('Bulk API 2.0 jobs one flush runs side by side for one object, each of more than bulkThreshold records (each job takes at least one of the org\'s 15,000 daily Bulk batches). Jobs side by side that touch children of one parent can be refused with UNABLE_TO_LOCK_ROW on a real org (retried), so one by default.'),
    quotaReservePercent: z.number().min(0).max(100).default(10).describe('Slow down when less than this share of the daily API quota remains.'),
    parentTimeoutMs: z.number().int().positive().default(300_000)
      .describe('A child whose parent has not landed after this (an Opportunity waiting for its Account, an order line for its product\'s PricebookEntry) goes to the DLQ, the reason naming the parent; one whose parent lands before is written then.'),
    maxRetries: z.number().int().min(0).default(8).describe('Retries of transient errors (5xx, UNABLE_TO_LOCK_ROW, timeouts) of one call; then a record whose row stays locked is isolated and dead-lettered, other errors retry the chunk.'),
    shopBatchSize: z.number().int().min(1).default(500).describe('Rows per shop sink transaction.'),
  }).prefault({}).describe('Sink tuning.'),
  processing: z.strictObject({
    router: stageTuning(500, 'the router (its outputs are one routed change per raw change, its state small)'),
    reconciler: stageTuning(100, 'the reconciler (each record writes its key\'s state, KBs, once per transaction however often the key changes in it)'),
  }).prefault({}).describe('Transactions of the router and the reconciler: their size, and how many partitions each works on at once.'),
  reconcile: z.strictObject({
    seenPositions: z.number().int().min(1).max(10_000).default(64).describe('Source positions remembered per key for duplicate detection.'),
    maxInFlight: z.number().int().min(1).default(32).describe('Unacknowledged writes remembered per key for echo detection.'),
    inFlightTtlMs: z.number().int().min(1000).default(600_000).describe('A write not seen back from its target within this time (source clock) is no longer expected as an echo.'),
  }).prefault({}).describe('Reconciler state.'),
  backfill: z.strictObject({
    chunkRecords: z.number().int().min(1).max(1_000_000).default(100_000)
      .describe('Shop -> Salesforce: records of the main shop table per chunk; a chunk is one Bulk API 2.0 upsert job per Salesforce object, then one checkpoint.'),
    pageRecords: z.number().int().min(1).max(1_000_000).default(50_000)
      .describe('Salesforce -> shop: records per Bulk API 2.0 query results page; each page is handed over, then checkpointed.'),
    initialLoad: z.array(z.enum(ENTITY_NAMES as [EntityName, ...EntityName[]])).default([])
      .describe('Entities `run` loads from the org into the shop at its first start (a backfill to the shop, once; its checkpoint says it was done). Enabled entities of which Salesforce masters some field.'),
  }).prefault({}).describe('`shopforce backfill` and the initial load of `run` (docs/design.md, "Backfill").'),
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
  drift: driftSchema.prefault({}).describe('Drift checks: do both sides still agree (`shopforce drift`, and on a schedule in `run`); src/drift/config.ts.'),
}).superRefine((cfg, ctx) => {
  cfg.backfill.initialLoad.forEach((name, i) => {
    const section = (cfg.entities as Record<string, BaseEntityConfig>)[name]!;
    if (!section.enabled) ctx.addIssue({ code: 'custom', path: ['backfill', 'initialLoad', i], message: `the ${name} flow is not enabled (entities.${name}.enabled)` });
    else if (!sidesMastering(section).has('salesforce')) {
      ctx.addIssue({ code: 'custom', path: ['backfill', 'initialLoad', i], message: `Salesforce masters no field of ${name}: there is nothing to load from the org into the shop` });
    }
  });
  for (const issue of driftEntityIssues(cfg.drift, cfg.entities)) ctx.addIssue({ code: 'custom', ...issue });
});

export type ShopforceConfig = z.infer<typeof configSchema>;
export type { EntitiesConfig } from '../entities/index.ts';

/** Dotted paths of fields that are secrets: they must come from the environment, never the file. */
export const SECRET_PATHS = ['shop.databaseUrl', 'kafka.sasl.password', 'registry.password', 'salesforce.clientSecret', 'salesforce.password', 'observability.accessToken', 'observability.alerts.webhooks.*.url', 'observability.alerts.webhooks.*.headers.*'] as const;
