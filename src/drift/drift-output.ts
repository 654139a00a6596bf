/**
 * Where a drift check's findings go in Kafka: a DRIFT record on sync.audit per drifted key and, when
 * repairing, the repair's commands (sync.out.*) or changes (sync.in.<entity>) — sent together per
 * batch of keys, each keyed by entity key with kafkajs' DefaultPartitioner as the pipeline keys them.
 */
import { Partitioners, type Kafka, type Message, type Producer } from 'kafkajs';
import { SUBJECTS, type TopicNames } from '../flows/topic-names.ts';
import type { Comparison, DriftFlow } from './compare.ts';
import { driftAuditEvent } from './drift-audit.ts';
import { repairOf, type DriftRun } from './repair.ts';

/** Keys per produce request. */
const KEYS_PER_SEND = 500;

export interface DriftOutputTotals {
  /** Drifted keys recorded on sync.audit. */
  audited: number;
  /** Keys a repair was sent for. */
  repaired: number;
  salesforceCommands: number;
  shopCommands: number;
  routedChanges: number;
}

export interface DriftOutput {
  add(flow: DriftFlow, c: Comparison, run: DriftRun): Promise<void>;
  /** Sends what is left; the totals so far. */
  flush(): Promise<DriftOutputTotals>;
  close(): Promise<void>;
}

export function createDriftOutput(opts: { kafka: Kafka; names: TopicNames; encode: (subject: string, value: unknown) => Promise<Buffer>; repair: boolean }): DriftOutput {
  const { names, encode } = opts;
  let producer: Producer | undefined;
  let pending = new Map<string, Message[]>();
  let keys = 0;
  const totals: DriftOutputTotals = { audited: 0, repaired: 0, salesforceCommands: 0, shopCommands: 0, routedChanges: 0 };
  const queue = (topic: string, message: Message) => {
    const list = pending.get(topic);
    if (list) list.push(message);
    else pending.set(topic, [message]);
  };

  async function send(): Promise<void> {
    if (pending.size === 0) return;
    if (!producer) {
      producer = opts.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
    }
    const topicMessages = [...pending].map(([topic, messages]) => ({ topic, messages }));
    pending = new Map();
    keys = 0;
    await producer.sendBatch({ acks: -1, topicMessages });
  }

  return {
    async add(flow, c, run) {
      const repair = opts.repair ? repairOf(flow, c, run) : undefined;
      if (repair) {
        for (const cmd of repair.salesforce) queue(names.salesforceCommands, { key: c.key, value: await encode(SUBJECTS.salesforceCommands, cmd) });
        for (const cmd of repair.shop) queue(names.shopCommands, { key: c.key, value: await encode(SUBJECTS.shopCommands, cmd) });
        for (const change of repair.routed) queue(names.routed(flow.entity.name), { key: c.key, value: JSON.stringify(change) });
        totals.repaired++;
        totals.salesforceCommands += repair.salesforce.length;
        totals.shopCommands += repair.shop.length;
        totals.routedChanges += repair.routed.length;
      }
      queue(names.audit, { key: c.key, value: await encode(SUBJECTS.audit, driftAuditEvent(c, run, flow.entity.name, repair, Date.now())) });
      totals.audited++;
      if (++keys >= KEYS_PER_SEND) await send();
    },
    async flush() {
      await send();
      return { ...totals };
    },
    async close() {
      await producer?.disconnect();
      producer = undefined;
    },
  };
}
