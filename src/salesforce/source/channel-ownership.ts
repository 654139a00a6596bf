import type { Consumer, Kafka } from 'kafkajs';
import { ensureTopics, subscribeWhenKnown } from '../../kafka/topics.ts';
import { stickyAssigner } from '../../kafka/sticky-assigner.ts';
import type { Logger } from '../../observability/logger.ts';

export interface ChannelOwnershipOptions {
  kafka: Kafka;
  /** The consumer group of the `run` copies sharing the channels. */
  groupId: string;
  /** The ownership topic: partition p stands for channels[p]; nothing is ever written to it. */
  topic: string;
  /** Every channel of the source, in the same order in every copy (partition p = channels[p]). */
  channels: string[];
  /** Called, one call at a time, with the channels this copy now owns; it must stop the lost ones before it resolves. */
  onOwned: (channels: string[]) => Promise<void>;
  log: Logger;
  /** How long a copy that stopped heartbeating (killed, hung) keeps its channels (default 10 s). */
  sessionTimeoutMs?: number;
}

export interface ChannelOwnership {
  start(): Promise<void>;
  /** Resolves once the assignments received so far are applied. */
  idle(): Promise<void>;
  /** Leaves the group: the caller stops its channels first, so the next owner resumes from their final checkpoints. */
  stop(): Promise<void>;
  /** The channels this copy owns now, and its member id in the group. */
  owned(): { memberId: string | null; channels: string[] };
}

/**
 * One owner per Salesforce change-event channel among the `run` copies, through Kafka group
 * membership: the copies form one consumer group over a topic with a partition per channel, and
 * owning partition p means subscribing to channels[p]. The assignment is sticky (a channel never
 * moves from a live copy), so a channel changes hands only when its owner leaves the group (a
 * stop, which first stops the channel and writes its checkpoint) or is evicted after the session
 * timeout (a crash); the next owner then resumes from the checkpoint.
 */
export function createChannelOwnership(opts: ChannelOwnershipOptions): ChannelOwnership {
  const { kafka, groupId, topic, channels, log } = opts;
  let consumer: Consumer | undefined;
  let memberId: string | null = null;
  let owned: number[] = [];
  // assignments apply one after another: a channel is stopped before a later assignment may start it
  let applying: Promise<void> = Promise.resolve();

  const apply = (partitions: number[]) => {
    applying = applying.then(async () => {
      const next = partitions.filter((p) => p < channels.length).sort((a, b) => a - b);
      // while channels start and stop, a rejoin claims both the old and the new ones
      owned = [...new Set([...owned, ...next])];
      await opts.onOwned(next.map((p) => channels[p]));
      owned = next;
    }).catch((err: unknown) => log.error({ err }, 'applying the channel assignment failed'));
    return applying;
  };

  return {
    async start() {
      const admin = kafka.admin();
      await admin.connect();
      try {
        // a flow enabled since the topic was made adds a channel: the topic grows a partition for it
        const existing = (await admin.listTopics()).includes(topic)
          ? (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0].partitions.length : 0;
        if (existing > 0 && existing < channels.length) await admin.createPartitions({ topicPartitions: [{ topic, count: channels.length }] });
        else await ensureTopics(admin, [{ topic, partitions: channels.length }]);
      } finally {
        await admin.disconnect();
      }
      const sessionTimeout = opts.sessionTimeoutMs ?? 10_000;
      consumer = kafka.consumer({
        groupId, sessionTimeout, rebalanceTimeout: 60_000, heartbeatInterval: Math.max(500, Math.floor(sessionTimeout / 5)),
        allowAutoTopicCreation: false,
        // what this copy holds is what it claims when it rejoins; the leader leaves it in place
        partitionAssigners: [stickyAssigner(() => ({ [topic]: owned }))],
      });
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        memberId = payload.memberId;
        const partitions = payload.memberAssignment[topic] ?? [];
        log.info({ memberId, leader: payload.isLeader, channels: partitions.map((p) => channels[p]) }, 'Salesforce channel assignment');
        void apply(partitions);
      });
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        // out of the group: another copy may own these channels soon, so stop reading them now
        log.warn({ err: payload.error, restart: payload.restart }, 'channel ownership consumer crashed: releasing its channels');
        void apply([]);
      });
      await consumer.connect();
      await subscribeWhenKnown(consumer, { topics: [topic], fromBeginning: false });
      await consumer.run({ eachMessage: async () => {} });
    },

    idle: () => applying,

    async stop() {
      await applying;
      await consumer?.disconnect();
      consumer = undefined;
      owned = [];
      memberId = null;
    },

    owned() {
      return { memberId, channels: owned.map((p) => channels[p]) };
    },
  };
}
