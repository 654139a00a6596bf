import type { Connection } from 'jsforce';
import type { SalesforceWrite } from '../entities/types.ts';
import { flowSpecs } from '../flows/flow-spec.ts';
import { DLQ_HEADER } from '../kafka/dlq.ts';
import { TransientError } from '../kafka/errors.ts';
import { createBatchSink, type ItemResult } from '../processors/batch-sink.ts';
import { SUBJECTS } from '../flows/topic-names.ts';
import { connectSalesforce } from '../salesforce/auth/connection.ts';
import { createSalesforceSink, type SalesforceSink, type WriteOutcome } from '../salesforce/sink/index.ts';
import { createSalesforceSource } from '../salesforce/source/index.ts';
import type { SharedPieces, Stage } from './pipeline.ts';

/** One logged-in Salesforce connection per process, made on first use (jsforce re-logs in itself). */
export function lazyConnection(config: SharedPieces['config']): () => Promise<Connection> {
  let pending: Promise<Connection> | undefined;
  return () => {
    pending ??= connectSalesforce(config.salesforce).catch((err) => {
      pending = undefined;
      throw err;
    });
    return pending;
  };
}

/** The Salesforce objects of the enabled flows (what the source subscribes to). */
export function salesforceObjects(config: SharedPieces['config']): string[] {
  return [...new Set(Object.values(flowSpecs(config)).flatMap((f) => Object.keys(f!.salesforce)))];
}

/** A sink outcome as the batch sink sees it: done (now or later), retry the batch, or refused (DLQ). */
function itemResult(outcome: WriteOutcome): ItemResult {
  switch (outcome.status) {
    case 'applied':
    case 'skipped':
    case 'coalesced':
    case 'parked': // kept by the sink until its parent lands; a final failure reaches the DLQ later
      return { ok: true };
    case 'retryable':
      throw new TransientError(`${outcome.command.sobject} ${outcome.command.externalId}: ${outcome.error.errorCode} ${outcome.error.message}`);
    case 'failed':
      return { ok: false, reason: `${outcome.reason} (${outcome.error.errorCode}: ${outcome.error.message}${outcome.error.fields.length ? ` [${outcome.error.fields.join(', ')}]` : ''})` };
  }
}

/**
 * The Salesforce stages: the change-event source (Salesforce -> sf.cdc.<Object>) and the sink
 * (sync.out.salesforce -> Salesforce through sObject Collections / Bulk API 2.0).
 */
export async function salesforceStages(shared: SharedPieces, conn: () => Promise<Connection>): Promise<Stage[]> {
  const { config, kafka, registry, metrics, log, names } = shared;
  const source = createSalesforceSource({
    sfConfig: config.salesforce, objects: salesforceObjects(config), kafka, logger: log.child({ stage: 'sf-source' }),
    metrics: metrics.registry, initialReplay: 'EARLIEST', partitions: config.kafka.partitions,
    topicPrefix: names.sfCdcPrefix, checkpointTopic: names.sfCheckpoints, imageTopic: names.sfImagePrefix,
  });

  let sink: SalesforceSink | undefined;
  // dead letters of parked commands that timed out, and parked commands re-queued on stop
  const dlq = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  // a parked child whose parent never came: its final outcome arrives after its offset was committed
  const lateOutcome = (outcome: WriteOutcome) => {
    if (outcome.status !== 'failed') return;
    void registry.encode(SUBJECTS.salesforceCommands, outcome.command).then((value) =>
      dlq.send({
        topic: names.dlq, acks: -1,
        messages: [{ key: outcome.command.key, value, headers: { [DLQ_HEADER.reason]: outcome.reason, [DLQ_HEADER.failure]: 'non-retryable', [DLQ_HEADER.processor]: 'sf-sink', [DLQ_HEADER.sourceTopic]: names.salesforceCommands } }],
      })).then(() => metrics.dlq.inc({ processor: 'sf-sink', reason: 'parent-timeout' }), (err) => log.error({ err: String(err) }, 'could not dead-letter a parked command'));
  };
  const writer = createBatchSink<SalesforceWrite>({
    name: 'sf-sink', kafka, groupId: `${config.kafka.groupIdPrefix}.sf-sink`, topic: names.salesforceCommands, dlqTopic: names.dlq,
    metrics, log: log.child({ processor: 'sf-sink' }), chunkSize: 2_000,
    decode: (m) => registry.decode<SalesforceWrite>(m.value!),
    write: async (commands) => {
      sink ??= createSalesforceSink({ conn: await conn(), config: config.sink, logger: log.child({ stage: 'sf-sink' }), registry: metrics.registry, onLateOutcome: lateOutcome });
      return (await sink.write(commands)).map(itemResult);
    },
  });

  return [
    { name: 'sf-source', start: () => source.start(), stop: () => source.stop(), ready: () => source.status().running },
    {
      name: 'sf-sink',
      async start() {
        await dlq.connect();
        await writer.start();
      },
      async stop() {
        await writer.stop();
        // children still waiting for their parent live only in memory: put them back on the command
        // topic (their offsets are committed), so the next run picks them up again
        const parked = sink?.parked() ?? [];
        await sink?.close();
        if (parked.length > 0) {
          const messages = await Promise.all(parked.map(async (c) => ({ key: c.key, value: await registry.encode(SUBJECTS.salesforceCommands, c) })));
          await dlq.send({ topic: names.salesforceCommands, acks: -1, messages });
          log.info({ commands: parked.length }, 'parked commands re-queued for the next run');
        }
        await dlq.disconnect();
      },
      ready: () => writer.ready(),
    },
  ];
}
