import type http from 'node:http';
import type https from 'node:https';
import { z } from 'zod';
import { createLogger, type Logger } from '../../observability/logger.ts';
import type { TokenCheck } from '../auth/session.ts';
import type { OrgModel } from '../model/types.ts';
import { SchemaRegistry } from './avro-schemas.ts';
import type { ChangeType, CommittedTransaction } from './change-event.ts';
import { changeEventsOf, gapEvent } from './change-events.ts';
import { ChannelDirectory } from './channels.ts';
import { CometdServer } from './cometd-server.ts';
import { Counters, EventBus } from './event-bus.ts';
import { EventLog } from './event-log.ts';
import { PubSubServer } from './pubsub-server.ts';
import type { StoredEvent } from './stored-event.ts';

export type { StoredEvent } from './stored-event.ts';
export { encodeReplayId, decodeReplayId } from './replay-id.ts';

const optionsSchema = z.object({
  dataDir: z.string().min(1, 'dataDir must name a folder'),
  retentionMs: z.number().int().positive('retentionMs must be > 0').default(72 * 3600 * 1000),
  apiVersion: z.string().regex(/^\d+\.\d$/, 'apiVersion must look like "60.0"').default('60.0'),
  pubSubPort: z.number().int().min(0).max(65535).default(0),
  pubSubHost: z.string().default('127.0.0.1'),
  keepaliveMs: z.number().int().positive('keepaliveMs must be > 0').default(60_000),
  longPollSeconds: z.number().positive().default(110),
  firstDeliveryDelayMs: z.number().int().min(0).default(25),
  tls: z.object({ key: z.string().min(1, 'tls.key is empty'), cert: z.string().min(1, 'tls.cert is empty') }),
});

export interface CdcHubOptions {
  model: OrgModel;
  /** Folder of the event log (cdc-events.sqlite). */
  dataDir: string;
  /** How long events stay replayable (default 72 h). */
  retentionMs?: number;
  /** CometD path version, e.g. "60.0" → /cometd/60.0. */
  apiVersion?: string;
  checkToken: TokenCheck;
  /** PEM key and certificate of the Pub/Sub TLS endpoint. */
  tls: { key: string; cert: string };
  /** 0 = ephemeral. */
  pubSubPort?: number;
  pubSubHost?: string;
  /** Quiet time after which a Subscribe stream gets an empty keepalive FetchResponse (default 60 s). */
  keepaliveMs?: number;
  /** How long a CometD /meta/connect is held open (default 110 s). */
  longPollSeconds?: number;
  /** Delay before the first CometD delivery to a new subscription (default 25 ms). */
  firstDeliveryDelayMs?: number;
  logger?: Logger;
}

export interface CdcHub {
  /** Turns a committed transaction into change events (call after every commit). */
  publish(tx: CommittedTransaction): void;
  /** Raises a gap event (no field data) for records of an entity. */
  emitGap(entityName: string, recordIds: string[], changeType: Extract<ChangeType, `GAP_${string}`>): StoredEvent;
  /** Raises a GAP_OVERFLOW event for an entity. */
  emitOverflow(entityName: string): StoredEvent;
  cometd: {
    /** Serves CometD at `path` (default /cometd/<apiVersion>) on an existing server; call once per server. */
    attach(server: http.Server | https.Server, path?: string): void;
    dropClients(): number;
  };
  pubsub: {
    start(): Promise<{ port: number }>;
    resetStreams(): number;
  };
  /** Newest replay id issued. */
  latestReplayId(): number;
  /** Every event issued so far leaves the retention window: resuming from its replay id is refused as expired. */
  expireEvents(): number;
  counters(): Record<string, number>;
  close(): Promise<void>;
}

/** Change Data Capture for the sandbox org: event log, Streaming API (CometD) and Pub/Sub API. */
export function createCdcHub(options: CdcHubOptions): CdcHub {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`Invalid CDC hub option ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const cfg = parsed.data;
  const logger = options.logger ?? createLogger('sandbox-cdc');
  const log = new EventLog({ dataDir: cfg.dataDir, retentionMs: cfg.retentionMs });
  const counters = new Counters();
  const bus = new EventBus(log, new SchemaRegistry(options.model), new ChannelDirectory(options.model), counters, logger);
  const cometd = new CometdServer({
    bus, checkToken: options.checkToken, apiVersion: cfg.apiVersion,
    longPollSeconds: cfg.longPollSeconds, firstDeliveryDelayMs: cfg.firstDeliveryDelayMs,
  });
  const pubsub = new PubSubServer({
    bus, checkToken: options.checkToken, tls: cfg.tls, port: cfg.pubSubPort, host: cfg.pubSubHost,
    keepaliveMs: cfg.keepaliveMs,
  });
  const pruneTimer = setInterval(() => log.prune(), Math.min(60_000, Math.max(1000, Math.floor(cfg.retentionMs / 2))));
  pruneTimer.unref();
  let last = { commitNumber: 0, commitUser: '' };
  let closed = false;

  const synthetic = () => ({ ...last, now: Date.now() });

  return {
    publish(tx) {
      if (closed) {
        logger.warn({ transactionKey: tx.transactionKey }, 'CDC hub closed: change events of this transaction dropped');
        return;
      }
      last = { commitNumber: tx.commitNumber, commitUser: tx.commitUser };
      bus.append(changeEventsOf(tx));
    },
    emitGap(entityName, recordIds, changeType) {
      return bus.append([gapEvent(entityName, recordIds, changeType, synthetic())])[0];
    },
    emitOverflow(entityName) {
      return bus.append([gapEvent(entityName, [], 'GAP_OVERFLOW', synthetic())])[0];
    },
    cometd: {
      attach: (server, path) => cometd.attach(server, path),
      dropClients: () => cometd.dropClients(),
    },
    pubsub: {
      start: () => pubsub.start(),
      resetStreams: () => pubsub.resetStreams(),
    },
    latestReplayId: () => log.latestReplayId(),
    expireEvents: () => log.expireAll(),
    counters: () => counters.snapshot(),
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(pruneTimer);
      cometd.close();
      await pubsub.close();
      log.close();
    },
  };
}
