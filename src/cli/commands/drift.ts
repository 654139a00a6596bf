import type { Command } from 'commander';
import { logLevel, type Kafka } from 'kafkajs';
import { registryClient, type SchemaCatalogClient } from '../../avro/registry.ts';
import { createKafka } from '../../kafka/client.ts';
import { runDriftJob } from '../../drift/drift-job.ts';
import { renderDriftReport } from '../../drift/report.ts';
import { kafkajsLogCreator } from '../../observability/kafkajs-logger.ts';
import { createLogger } from '../../observability/logger.ts';
import { preparePipelineTopics } from '../../run/topics.ts';
import { connectSalesforce } from '../../salesforce/auth/connection.ts';
import { commandConfig } from '../command-config.ts';

/** Exit code when the sides do not agree (1 is an error). */
export const DRIFT_FOUND_EXIT_CODE = 3;

interface DriftOptions { config?: string; sandbox?: boolean; repair?: boolean; json?: boolean; samples?: string }

export function register(program: Command): void {
  program
    .command('drift')
    .description('do both sides still agree on an entity: missing, different and extra records, with samples; --repair re-sends the master\'s values through the pipeline')
    .argument('<entity>', 'an enabled entity (customer, order, product, stock, ...)')
    .option('-c, --config <file>', 'configuration of the pipeline (YAML or JSON)', process.env.SHOPFORCE_CONFIG)
    .option('--sandbox', 'the local sandbox pipeline (`run --sandbox`): the example config with the local stack\'s addresses')
    .option('--repair', 'send the master\'s values of every drifted record through the pipeline (commands, audited as DRIFT on sync.audit)')
    .option('--samples <n>', 'sample keys per kind (overrides drift.samples)')
    .option('--json', 'the report as JSON')
    .addHelpText('after', `\nExit status: 0 no drift, ${DRIFT_FOUND_EXIT_CODE} drift found (also when repaired: check again once the sinks wrote the repair), 1 error.`)
    .action(async (entity: string, opts: DriftOptions) => {
      const config = await commandConfig(opts);
      if (opts.samples !== undefined) config.drift.samples = Number(opts.samples);
      const conn = await connectSalesforce(config.salesforce);
      let kafka: Kafka | undefined;
      let registry: SchemaCatalogClient | undefined;
      if (opts.repair) {
        kafka = createKafka(config.kafka, `${config.kafka.clientId}-drift`, { logLevel: logLevel.WARN, logCreator: kafkajsLogCreator(createLogger('drift')) });
        registry = registryClient(config.registry);
        // a repair before the pipeline's first start finds its schemas and topics in place
        await preparePipelineTopics(config, kafka, registry);
      }
      const { report, output } = await runDriftJob(config, entity, { conn, kafka, encode: registry && ((subject, value) => registry.encode(subject, value)) }, { repair: !!opts.repair, audit: !!opts.repair });
      process.stdout.write(opts.json ? `${JSON.stringify({ ...report, repair: output ?? null }, null, 2)}\n` : renderDriftReport(report, output));
      if (report.drift > 0) process.exitCode = DRIFT_FOUND_EXIT_CODE;
    });
}
