import type { Command } from 'commander';
import { readDlq, replayDlq } from '../../dlq/dlq-reader.ts';
import type { KafkaSection } from '../../kafka/client.ts';
import { commandConfig } from '../command-config.ts';
import { topicNames } from '../../flows/topic-names.ts';
import { createStackContext } from '../../stack/context.ts';
import { kafkaBootstrap } from '../../stack/components/kafka.ts';

interface DlqOptions { brokers?: string; namespace?: string; topic?: string; config?: string }

/** The cluster and topic: --config's kafka section (TLS and SASL included), else --brokers or the local stack, unsecured. */
async function target(opts: DlqOptions): Promise<{ cluster: KafkaSection; topic: string }> {
  if (opts.config) {
    const { kafka } = await commandConfig({ config: opts.config });
    return { cluster: opts.brokers ? { ...kafka, brokers: opts.brokers.split(',') } : kafka, topic: opts.topic ?? topicNames(opts.namespace ?? kafka.topicNamespace).dlq };
  }
  const brokers = (opts.brokers ?? kafkaBootstrap(createStackContext({ quiet: true }))).split(',');
  return { cluster: { brokers, clientId: 'shopforce-dlq', ssl: { enabled: false, rejectUnauthorized: true } }, topic: opts.topic ?? topicNames(opts.namespace ?? '').dlq };
}

export function register(program: Command): void {
  const dlq = program.command('dlq').description('dead letters: records a processor could not handle, with the reason (sync.dlq)')
    .option('--config <file>', 'the pipeline\'s configuration: its Kafka cluster (TLS, SASL) and topic namespace')
    .option('--brokers <list>', 'Kafka bootstrap servers (default: the local stack, or --config\'s)')
    .option('--namespace <ns>', 'kafka.topicNamespace of the pipeline (default: none)')
    .option('--topic <topic>', 'dead-letter topic (default: <namespace>.sync.dlq)');

  dlq.command('list')
    .description('every dead letter: when, which processor, where it came from, why, and whether it was replayed')
    .option('--json', 'one JSON object per line, key and value included (base64)')
    .action(async (opts: { json?: boolean }) => {
      const { cluster, topic } = await target(dlq.opts<DlqOptions>());
      const records = await readDlq(cluster, topic);
      if (opts.json) {
        for (const r of records) process.stdout.write(JSON.stringify({ ...r, key: r.key?.toString('utf8') ?? null, value: r.value?.toString('base64') ?? null, stack: undefined }) + '\n');
        return;
      }
      if (records.length === 0) {
        process.stdout.write(`${topic}: no dead letters\n`);
        return;
      }
      for (const r of records) {
        process.stdout.write(`${r.failedAt}  ${r.processor.padEnd(10)} ${r.source.topic}[${r.source.partition}]@${r.source.offset}  key=${r.key?.toString('utf8') ?? '-'}${r.replayed ? '  (replayed)' : ''}\n    ${r.failure}/${r.errorClass}: ${r.reason}\n`);
      }
      process.stdout.write(`${records.length} dead letter(s), ${records.filter((r) => !r.replayed).length} not replayed\n`);
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
