import type { Command } from 'commander';
import { SchemaCatalogClient } from '../../avro/registry.ts';
import { dlqMatcher, type DlqFilter } from '../../dlq/dlq-filter.ts';
import { purgeDlq } from '../../dlq/dlq-purge.ts';
import { readDlq, replayDlq, type DlqRecord } from '../../dlq/dlq-reader.ts';
import { topicNames } from '../../flows/topic-names.ts';
import { createStackContext } from '../../stack/context.ts';
import { kafkaBootstrap } from '../../stack/components/kafka.ts';
import { registryUrl } from '../../stack/components/registry.ts';

interface DlqOptions { brokers?: string; namespace?: string; topic?: string; registry?: string }
interface FilterOptions extends DlqFilter { json?: boolean }

/** The filter of `show` and `purge`; Avro values (the command topics) tell their entity through the registry. */
function matcherOf(opts: DlqOptions & DlqFilter): (r: DlqRecord) => Promise<boolean> {
  const registry = new SchemaCatalogClient(opts.registry ?? registryUrl(createStackContext({ quiet: true })));
  return dlqMatcher({ entity: opts.entity, key: opts.key }, (value) => registry.decode(value));
}

function printRecords(records: Array<DlqRecord & { replayed: boolean }>, json: boolean | undefined): void {
  for (const r of records) {
    if (json) process.stdout.write(JSON.stringify({ ...r, key: r.key?.toString('utf8') ?? null, value: r.value?.toString('base64') ?? null, stack: undefined }) + '\n');
    else process.stdout.write(`${r.failedAt}  ${r.processor.padEnd(10)} ${r.source.topic}[${r.source.partition}]@${r.source.offset}  key=${r.key?.toString('utf8') ?? '-'}${r.replayed ? '  (replayed)' : ''}\n    ${r.failure}/${r.errorClass}: ${r.reason}\n`);
  }
}

function target(opts: DlqOptions): { brokers: string[]; topic: string } {
  const brokers = (opts.brokers ?? kafkaBootstrap(createStackContext({ quiet: true }))).split(',');
  return { brokers, topic: opts.topic ?? topicNames(opts.namespace ?? '').dlq };
}

export function register(program: Command): void {
  const dlq = program.command('dlq').description('dead letters: records a processor could not handle, with the reason (sync.dlq)')
    .option('--brokers <list>', 'Kafka bootstrap servers (default: the local stack)')
    .option('--namespace <ns>', 'kafka.topicNamespace of the pipeline (default: none)')
    .option('--topic <topic>', 'dead-letter topic (default: <namespace>.sync.dlq)')
    .option('--registry <url>', 'schema registry, to read the entity of Avro dead letters (default: the local stack)');

  dlq.command('list')
    .description('every dead letter: when, which processor, where it came from, why, and whether it was replayed')
    .option('--json', 'one JSON object per line, key and value included (base64)')
    .action(async (opts: { json?: boolean }) => {
      const { brokers, topic } = target(dlq.opts<DlqOptions>());
      const records = await readDlq(brokers, topic);
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
      const { brokers, topic } = target(dlq.opts<DlqOptions>());
      const matches = matcherOf({ ...dlq.opts<DlqOptions>(), ...opts });
      const records = [];
      for (const r of await readDlq(brokers, topic)) if (await matches(r)) records.push(r);
      printRecords(records, opts.json);
      if (!opts.json) process.stdout.write(`${records.length} dead letter(s) match, ${records.filter((r) => !r.replayed).length} not replayed\n`);
    });

  dlq.command('purge')
    .description('delete dead letters (of one entity and/or key): Kafka deletes a partition\'s oldest records only, so a matching one behind an older one that does not match stays, and is reported')
    .option('--entity <entity>', 'only those of this entity')
    .option('--key <key>', 'only those of this key')
    .action(async (opts: FilterOptions) => {
      const { brokers, topic } = target(dlq.opts<DlqOptions>());
      const { purged, kept } = await purgeDlq(brokers, topic, matcherOf({ ...dlq.opts<DlqOptions>(), ...opts }));
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
      const { brokers, topic } = target(dlq.opts<DlqOptions>());
      const replayed = await replayDlq(brokers, topic, (r) => (!opts.processor || r.processor === opts.processor) && (!opts.sourceTopic || r.source.topic === opts.sourceTopic));
      process.stdout.write(`replayed ${replayed.length} dead letter(s)${replayed.length ? `: ${[...new Set(replayed.map((r) => r.source.topic))].join(', ')}` : ''}\n`);
    });
}
