import type { Connection } from 'jsforce';
import type { Kafka, Producer } from 'kafkajs';
import type { Registry } from 'prom-client';
import { ensureTopics } from '../../kafka/topics.ts';
import { createLogger, type Logger } from '../../observability/logger.ts';
import { connectSalesforce, trustExtraCa, type SalesforceConfig } from '../auth/connection.ts';
import { ChannelPipeline, type ChannelStatus, type WrittenBatch } from './channel-pipeline.ts';
import { createChannelOwnership, type ChannelOwnership } from './channel-ownership.ts';
import { changeEventChannel, objectTopic } from './channels.ts';
import { CheckpointStore } from './checkpoints.ts';
import { describeFields, type ObjectFields } from './field-types.ts';
import { ImageCache } from './images.ts';
import { sourceMetrics, type SourceMetrics } from './metrics.ts';
import { createPubSubSubscriber } from './pubsub-subscriber.ts';
import { createRestReader } from './rest-reader.ts';
import { createStreamingSubscriber } from './streaming-subscriber.ts';
import type { Subscriber } from './subscriber.ts';
import type { SourceMode } from './types.ts';

export interface SalesforceSourceOptions {
  sfConfig: SalesforceConfig;
  /** sObjects to follow, e.g. ['Product2', 'PricebookEntry']. */
  objects: string[];
  kafka: Kafka;
  /** Raw events go to `<topicPrefix>.<Object>` (default 'sf.cdc'). */
  topicPrefix?: string;
  /** Compacted topic of replay id checkpoints, keyed by channel (default 'sf.source.checkpoints'). */
  checkpointTopic?: string;
  /** Prefix of the compacted full-image topics `<imageTopic>.<Object>` (default 'sf.image'). */
  imageTopic?: string;
  logger?: Logger;
  /** Prometheus registry for the source's metrics (a private one when omitted). */
  metrics?: Registry;
  /** Where a channel without checkpoint starts (default LATEST). */
  initialReplay?: 'LATEST' | 'EARLIEST';
  /** Events requested per Pub/Sub fetch (<= 100, default 100). */
  batchSize?: number;
  /** Partitions of the sf.cdc / sf.image topics it creates (default 6). */
  partitions?: number;
  /** Replication factor of the change and image topics it creates (`source`) and of its checkpoints (`state`); default 1. */
  replication?: { source: number; state: number };
  /** An already logged-in jsforce connection (default: connectSalesforce(sfConfig)). */
  connection?: Connection;
  /** Called after each batch Kafka acknowledged (benchmarks, tests). */
  onWritten?: (batch: WrittenBatch) => void;
  /** Test hook: called with the batch's record ids after Kafka acknowledged it and before its checkpoint is written (crash tests). */
  betweenKafkaWriteAndCheckpoint?: (recordIds: string[]) => void;
  /**
   * Share the channels with other copies of the process: each channel is read by the one copy
   * that owns it in this consumer group (see channel-ownership.ts). Without it, this source reads every channel.
   */
  sharing?: { groupId: string; topic: string; sessionTimeoutMs?: number };
}

export interface SourceAlert { kind: string; channel: string; message: string; at: string }

export interface SalesforceSourceStatus {
  mode: SourceMode;
  running: boolean;
  /** The channels this copy reads (with sharing: the ones it owns). */
  channels: ChannelStatus[];
  /** With sharing: this copy's member id in the ownership group and the channels other copies read. */
  sharing?: { memberId: string | null; elsewhere: string[] };
  /** The latest alerts (gap, overflow, replay id invalid, parse error, stalled stream), newest last. */
  alerts: SourceAlert[];
}

export interface SalesforceSource {
  /** Restores checkpoints and images, creates topics, subscribes. Resolves once subscribing began. */
  start(): Promise<void>;
  /** Stops subscribing, writes and checkpoints what was received, disconnects. */
  stop(): Promise<void>;
  status(): SalesforceSourceStatus;
  /**
   * Whether the org's changes to `object` made before this start have been read (by this copy, or by
   * the copy its channel is assigned to): our writes to it must wait until then, or an absolute value
   * of ours (a stock quantity) could overwrite a change whose events expired while we were down.
   */
  caughtUp(object: string): boolean;
}

const MAX_ALERTS = 50;

/**
 * The Salesforce change-event source: subscribes to /data/<Object>ChangeEvent per object through
 * the Pub/Sub API (default) or the Streaming API, and writes one message per record id to
 * sf.cdc.<Object> with the record's full image, checkpointing replay ids after Kafka acknowledged.
 *
 * Delivery: a graceful stop/start neither loses nor repeats events. A crash between Kafka's
 * acknowledgement and the checkpoint write replays the events after the last checkpoint: those
 * messages come again with the same replay id (`position`), which the reconciler drops as
 * duplicates by source position.
 */
export function createSalesforceSource(opts: SalesforceSourceOptions): SalesforceSource {
  const cfg = opts.sfConfig;
  const mode: SourceMode = cfg.source.mode;
  const log = opts.logger ?? createLogger('sf-source');
  const metrics: SourceMetrics = sourceMetrics(opts.metrics);
  const topicPrefix = opts.topicPrefix ?? 'sf.cdc';
  const imagePrefix = opts.imageTopic ?? 'sf.image';
  const checkpointTopic = opts.checkpointTopic ?? 'sf.source.checkpoints';
  const batchSize = Math.max(1, Math.min(100, opts.batchSize ?? 100));
  const objects = [...new Set(opts.objects)];
  if (objects.length === 0) throw new Error('createSalesforceSource: objects is empty: name at least one sObject');
  const checkpoints = new CheckpointStore(opts.kafka, checkpointTopic);
  const describes = new Map<string, ObjectFields>();
  const alerts: SourceAlert[] = [];
  const pipelines = new Map<string, ChannelPipeline>();
  let ownership: ChannelOwnership | undefined;
  let producer: Producer | undefined;
  let conn: Connection | undefined;
  let subscriber: Subscriber | undefined;
  let running = false;

  const alert = (kind: string, channel: string, message: string, details: Record<string, unknown> = {}) => {
    const object = objects.find((o) => changeEventChannel(o) === channel) ?? channel;
    metrics.alerts.inc({ object, kind });
    log.error({ alert: kind, channel, ...details }, message);
    alerts.push({ kind, channel, message, at: new Date().toISOString() });
    if (alerts.length > MAX_ALERTS) alerts.shift();
  };

  /** Reads exactly these objects' channels: stops the others (writing their checkpoints), starts the new ones from theirs. */
  const ownChannels = async (owned: string[]): Promise<void> => {
    const wanted = new Set(owned.map(changeEventChannel));
    const lost = [...pipelines].filter(([channel]) => !wanted.has(channel));
    await Promise.all(lost.map(async ([channel, p]) => {
      await p.stop();
      pipelines.delete(channel);
      metrics.owned.set({ object: p.status().object, channel }, 0);
      log.info({ channel, checkpoint: checkpoints.get(channel) ?? null }, 'Salesforce source channel released');
    }));
    const gained = owned.filter((o) => !pipelines.has(changeEventChannel(o)));
    if (gained.length === 0 || !running) return;
    // another copy may have read these channels: their checkpoints and images are the ones it left
    await checkpoints.load(new Set(gained.map(changeEventChannel)));
    for (const object of gained) {
      const pipeline = await channelPipeline(object);
      const channel = changeEventChannel(object);
      if (!running) return;
      pipelines.set(channel, pipeline);
      metrics.owned.set({ object, channel }, 1);
      pipeline.start();
    }
  };

  const channelPipeline = async (object: string): Promise<ChannelPipeline> => {
    const images = new ImageCache(object, objectTopic(imagePrefix, object));
    const restored = await images.restore(opts.kafka);
    const channel = changeEventChannel(object);
    const rest = createRestReader(conn!, (obj, kind, records) => {
      metrics.restFetches.inc({ object: obj, kind });
      metrics.restRecords.inc({ object: obj, kind }, records);
      pipeline.countRest(1);
    });
    const pipeline: ChannelPipeline = new ChannelPipeline({
      object, channel, cdcTopic: objectTopic(topicPrefix, object), subscriber: subscriber!, producer: producer!, images, checkpoints, rest,
      fields: () => describes.get(object)!, metrics, log: log.child({ object }), keepaliveTimeoutMs: cfg.source.keepaliveTimeoutMs,
      batchSize, initialReplay: opts.initialReplay ?? 'LATEST', alert, onWritten: opts.onWritten,
      betweenKafkaWriteAndCheckpoint: opts.betweenKafkaWriteAndCheckpoint,
    });
    log.info({ object, channel, images: restored, checkpoint: checkpoints.get(channel) ?? null }, 'Salesforce source channel ready');
    return pipeline;
  };

  return {
    async start() {
      if (running) return;
      trustExtraCa(cfg.caCertPath);
      conn = opts.connection ?? await connectSalesforce(cfg);
      for (const o of objects) describes.set(o, await describeFields(conn, o));

      const partitions = opts.partitions ?? 6;
      const admin = opts.kafka.admin();
      await admin.connect();
      try {
        await ensureTopics(admin, [
          { topic: checkpointTopic, partitions: 1, compacted: true, replicationFactor: opts.replication?.state },
          ...objects.map((o) => ({ topic: objectTopic(topicPrefix, o), partitions, replicationFactor: opts.replication?.source })),
          ...objects.map((o) => ({ topic: objectTopic(imagePrefix, o), partitions, compacted: true, replicationFactor: opts.replication?.source })),
        ]);
      } finally {
        await admin.disconnect();
      }
      producer = opts.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
      await producer.connect();

      const fieldsOf = (o: string) => describes.get(o);
      if (mode === 'pubsub') {
        subscriber = createPubSubSubscriber(cfg, conn, log.child({ part: 'pubsub' }), fieldsOf);
      } else {
        subscriber = createStreamingSubscriber(conn, cfg.apiVersion, log.child({ part: 'cometd' }), fieldsOf, (channel) => {
          const object = objects.find((o) => changeEventChannel(o) === channel) ?? channel;
          metrics.resubscribes.inc({ object, reason: 'cometd-rehandshake' });
          log.warn({ channel }, 'CometD client unknown to the server: faye re-handshakes and resubscribes after the last event received');
        });
      }
      for (const object of objects) metrics.owned.set({ object, channel: changeEventChannel(object) }, 0);
      running = true;
      if (!opts.sharing) {
        await ownChannels(objects);
        return;
      }
      const byChannel = new Map(objects.map((o) => [changeEventChannel(o), o]));
      ownership = createChannelOwnership({
        kafka: opts.kafka, groupId: opts.sharing.groupId, topic: opts.sharing.topic, sessionTimeoutMs: opts.sharing.sessionTimeoutMs,
        channels: [...byChannel.keys()].sort(), log: log.child({ part: 'ownership' }),
        onOwned: (channels) => ownChannels(channels.map((c) => byChannel.get(c)!)),
      });
      await ownership.start();
    },

    async stop() {
      if (!running) return;
      running = false;
      await ownership?.idle();
      // the channels' last events are written and checkpointed before the group hears this copy leave
      await ownChannels([]);
      await ownership?.stop();
      ownership = undefined;
      subscriber?.close();
      await producer?.disconnect();
      producer = undefined;
    },

    status() {
      const channels = [...pipelines.values()].map((p) => p.status());
      const shared = ownership ? { sharing: { memberId: ownership.owned().memberId, elsewhere: objects.map(changeEventChannel).filter((c) => !pipelines.has(c)) } } : {};
      return { mode, running, channels, ...shared, alerts: [...alerts] };
    },

    caughtUp(object) {
      if (!objects.includes(object)) return true;
      if (!running) return false;
      const channel = changeEventChannel(object);
      const pipeline = pipelines.get(channel);
      if (pipeline) return pipeline.status().caughtUp;
      if (!ownership) return false;
      // with sharing: not assigned yet, or assigned here and still starting -> wait; read by another copy -> its job
      const owned = ownership.owned();
      return owned.memberId !== null && !owned.channels.includes(channel);
    },
  };
}
