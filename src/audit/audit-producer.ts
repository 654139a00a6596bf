/**
 * Writes audit records to sync.audit from outside the reconciler's transactions (the sinks' write
 * results, drift checks): keyed by entity key with kafkajs' DefaultPartitioner, as the reconciler
 * writes them, so one key's records share a partition. Records handed over in the same turn of the
 * event loop go out in one produce request.
 */
import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import { Counter, Histogram, type Registry } from 'prom-client';
import { SUBJECTS } from '../flows/topic-names.ts';
import type { AuditEvent } from '../reconcile/audit.ts';

export interface AuditProducer {
  /** Resolves once Kafka acknowledged the records (so a sink may commit the commands they describe). */
  send(events: AuditEvent[]): Promise<void>;
  stop(): Promise<void>;
}

export interface AuditProducerOptions {
  kafka: Kafka;
  topic: string;
  encode: (subject: string, value: unknown) => Promise<Buffer>;
  /** Where shopforce_audit_records_total and shopforce_audit_send_seconds go (none: not measured). */
  registry?: Registry;
}

export function createAuditProducer(opts: AuditProducerOptions): AuditProducer {
  const registers = opts.registry ? [opts.registry] : [];
  const records = new Counter({ name: 'shopforce_audit_records_total', help: 'Audit records written outside the reconciler (sink write results, drift checks).', registers });
  const sendSeconds = new Histogram({
    name: 'shopforce_audit_send_seconds', help: 'From handing audit records over to Kafka acknowledging them (what a sink waits before it commits).',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers,
  });
  let producer: Producer | undefined;
  let connecting: Promise<Producer> | undefined;
  let queued: AuditEvent[] = [];
  let flush: Promise<void> | undefined;

  async function connected(): Promise<Producer> {
    connecting ??= (async () => {
      const p = opts.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
      await p.connect();
      producer = p;
      return p;
    })().catch((err: unknown) => {
      connecting = undefined;
      throw err;
    });
    return connecting;
  }

  async function sendQueued(): Promise<void> {
    const events = queued;
    queued = [];
    flush = undefined;
    const messages = await Promise.all(events.map(async (e) => ({ key: e.key, value: await opts.encode(SUBJECTS.audit, e) })));
    await (await connected()).send({ topic: opts.topic, acks: -1, messages });
  }

  return {
    async send(events) {
      if (events.length === 0) return;
      const started = process.hrtime.bigint();
      queued.push(...events);
      flush ??= new Promise<void>((resolve) => setImmediate(resolve)).then(sendQueued);
      await flush;
      records.inc(events.length);
      sendSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    },
    async stop() {
      await flush?.catch(() => undefined);
      await producer?.disconnect();
      producer = undefined;
      connecting = undefined;
    },
  };
}
