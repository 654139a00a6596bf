import type { Command } from 'commander';
import { registryClient, type SchemaCatalogClient } from '../../avro/registry.ts';
import { dlqMatcher, type DlqFilter } from '../../dlq/dlq-filter.ts';
import { purgeDlq } from '../../dlq/dlq-purge.ts';
import { readDlq, replayDlq, type DlqRecord } from '../../dlq/dlq-reader.ts';
import type { KafkaSection } from '../../kafka/client.ts';
import { commandConfig } from '../command-config.ts';
import { topicNames } from '../../flows/topic-names.ts';
import { createStackContext } from '../../stack/context.ts';
import { kafkaBootstrap } from '../../stack/components/kafka.ts';
import { registryUrl } from '../../stack/components/registry.ts';

interface DlqOptions { brokers?: string; namespace?: string; topic?: string; config?: string; registry?: string }
interface FilterOptions extends DlqFilter { json?: boolean }

/** The filter of `show` and `purge`; Avro values (the command topics) tell their entity through the registry. */
function matcherOf(registry: SchemaCatalogClient, filter: DlqFilter): (r: DlqRecord) => Promise<boolean> {
  return dlqMatcher({ entity: filter.entity, key: filter.key }, (value) => registry.decode(value));
}

function printRecords(records: Array<DlqRecord & { replayed: boolean }>, json: boolean | undefined): void {
  for (const r of records) {
    if (json) process.stdout.write(JSON.stringify({ ...r, key: r.key?.toString('utf8') ?? null, value: r.value?.toString('base64') ?? null, stack: undefined }) + '\n');
    else process.stdout.write(`${r.failedAt}  ${r.processor.padEnd(10)} ${r.source.topic}[${r.source.partition}]@${r.source.offset}  key=${r.key?.toString('utf8') ?? '-'}${r.replayed ? '  (replayed)' : ''}\n    ${r.failure}/${r.errorClass}: ${r.reason}\n`);
  }
}

interface DlqTarget { cluster: KafkaSection; topic: string; registry: SchemaCatalogClient }

/**
 * The cluster, topic and registry: --config's kafka and registry sections (TLS, SASL, basic auth included),
 * else --brokers / --registry or the local stack's, unsecured.
 */
async function target(opts: DlqOptions): Promise<DlqTarget> {
  if (opts.config) {
    const { kafka, registry } = await commandConfig({ config: opts.config });
    return {
      cluster: opts.brokers ? { ...kafka, brokers: opts.brokers.split(',') } : kafka,
      topic: opts.topic ?? topicNames(opts.namespace ?? kafka.topicNamespace).dlq,
      registry: registryClient(opts.registry ? { ...registry, url: opts.registry } : registry),
    };
  }
  const stack = createStackContext({ quiet: true });
  const brokers = (opts.brokers ?? kafkaBootstrap(stack)).split(',');
  return {
    cluster: { brokers, clientId: 'shopforce-dlq', ssl: { enabled: false, rejectUnauthorized: true } },
    topic: opts.topic ?? topicNames(opts.namespace ?? '').dlq,
    registry: registryClient({ url: opts.registry ?? registryUrl(stack) }),
  };
}

export function register(program: Command): void {
  const dlq = program.command('dlq').description('dead letters: records a processor could not handle, with the reason (sync.dlq)')
    .option('--config <file>', 'the pipeline\'s configuration: its Kafka cluster (TLS, SASL) and topic namespace')
    .option('--brokers <list>', 'Kafka bootstrap servers (default: the local stack, or --config\'s)')
    .option('--namespace <ns>', 'kafka.topicNamespace of the pipeline (default: none)')
    .option('--topic <topic>', 'dead-letter topic (default: <namespace>.sync.dlq)')
    .option('--registry <url>', 'schema registry, to read the entity of Avro dead letters (default: the local stack)');

  dlq.command('list')
    .description('every dead letter: when, which processor, where it came from, why, and whether it was replayed')
    .option('--json', 'one JSON object per line, key and value included (base64)')
    .action(async (opts: { json?: boolean }) => {
      const { cluster, topic } = await target(dlq.opts<DlqOptions>());
      const records = await readDlq(cluster, topic);
      if (!opts.json && records.length === 0) {
        process.stdout.write(`${topic}: no dead letters\n`);
        return;
      }
      printRecords(records, opts.json);
      if (!opts.json) process.stdout.write(`${records.length} dead letter(s), ${records.filter((r) => !r.replayed).length} not replayed\n`);
    });

  dlq.command('show')
    .description('the dead letters of one entity and/or one key')
    .option('--entity <entity>', 'only those of this entity (customer, order, product, ...)')
    .option('--key <key>', 'only those of this key (shop-1|SKU-1, or SKU-1 without the shop id)')
    .option('--json', 'one JSON object per line, key and value included (base64)')
    .action(async (opts: FilterOptions) => {
      const { cluster, topic, registry } = await target(dlq.opts<DlqOptions>());
      const matches = matcherOf(registry, opts);
      const records = [];
      for (const r of await readDlq(cluster, topic)) if (await matches(r)) records.push(r);
      printRecords(records, opts.json);
      if (!opts.json) process.stdout.write(`${records.length} dead letter(s) match, ${records.filter((r) => !r.replayed).length} not replayed\n`);
    });

  dlq.command('purge')
    .description('delete dead letters (of one entity and/or key): Kafka deletes a partition\'s oldest records only, so a matching one behind an older one that does not match stays, and is reported')
    .option('--entity <entity>', 'only those of this entity')
    .option('--key <key>', 'only those of this key')
    .action(async (opts: FilterOptions) => {
      const { cluster, topic, registry } = await target(dlq.opts<DlqOptions>());
      const { purged, kept } = await purgeDlq(cluster, topic, matcherOf(registry, opts));
      process.stdout.write(`purged ${purged.length} dead letter(s)\n`);
      if (kept.length > 0) {
        process.stdout.write(`${kept.length} matching dead letter(s) stay: an older dead letter on their partition does not match (Kafka deletes from a partition's start only):\n`);
        printRecords(kept.map((r) => ({ ...r, replayed: false })), false);
      }
    });

  dlq.command('replay')
    .description('send dead letters not yet replayed back to the topic they came from (after fixing the cause)')
    .option('--processor <name>', 'only those of this processor (router, reconciler, shop-sink, sf-sink)')
    .option('--source-topic <topic>', 'only those that came from this topic')
    .action(async (opts: { processor?: string; sourceTopic?: string }) => {
      const { cluster, topic } = await target(dlq.opts<DlqOptions>());
      const replayed = await replayDlq(cluster, topic, (r) => (!opts.processor || r.processor === opts.processor) && (!opts.sourceTopic || r.source.topic === opts.sourceTopic));
      process.stdout.write(`replayed ${replayed.length} dead letter(s)${replayed.length ? `: ${[...new Set(replayed.map((r) => r.source.topic))].join(', ')}` : ''}\n`);
    });
}
