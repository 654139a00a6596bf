import type { Command } from 'commander';
import { logLevel } from 'kafkajs';
import { registryClient } from '../../avro/registry.ts';
import { createKafka } from '../../kafka/client.ts';
import { enabledEntities } from '../../entities/index.ts';
import { kafkajsLogCreator } from '../../observability/kafkajs-logger.ts';
import { createLogger } from '../../observability/logger.ts';
import { connectSalesforce } from '../../salesforce/auth/connection.ts';
import { keyOf, keyOfSalesforceRecord, keyOfShopRow } from '../../trace/locate.ts';
import { renderTrace } from '../../trace/render.ts';
import { traceKey } from '../../trace/story.ts';
import { commandConfig } from '../command-config.ts';

interface TraceOptions { config?: string; sandbox?: boolean; json?: boolean; salesforceId?: string; shopRow?: string }

export function register(program: Command): void {
  program
    .command('trace')
    .description('a record\'s whole story in time order: its source events from both sides, each decision, each command and each write result')
    .argument('<entity>', 'an enabled entity (customer, order, product, stock, ...)')
    .argument('[key]', 'its business key, e.g. 1042 or SKU-7|WH-1 (the shop id in front is optional)')
    .option('--salesforce-id <id>', 'find the record by the id of one of its Salesforce records')
    .option('--shop-row <table:id>', 'find the record by one of its shop rows, e.g. orders:123')
    .option('-c, --config <file>', 'configuration of the pipeline (YAML or JSON)', process.env.SHOPFORCE_CONFIG)
    .option('--sandbox', 'the local sandbox pipeline (`run --sandbox`): the example config with the local stack\'s addresses')
    .option('--json', 'the story as JSON')
    .action(async (entityName: string, given: string | undefined, opts: TraceOptions) => {
      const config = await commandConfig(opts);
      const entity = enabledEntities(config).find((e) => e.name === entityName);
      if (!entity) throw new Error(`${entityName} is not an enabled entity of this configuration`);
      if ([given, opts.salesforceId, opts.shopRow].filter(Boolean).length !== 1) throw new Error('give exactly one of: the key, --salesforce-id, --shop-row');
      let key: string;
      if (opts.salesforceId) key = await keyOfSalesforceRecord(config, entity, await connectSalesforce(config.salesforce), opts.salesforceId);
      else if (opts.shopRow) {
        const [table, id] = opts.shopRow.split(':');
        if (!table || !id) throw new Error('--shop-row takes <table>:<id>, e.g. orders:123');
        key = await keyOfShopRow(config, entity, table, id);
      } else key = keyOf(config, given!);
      const kafka = createKafka(config.kafka, `${config.kafka.clientId}-trace`, { logLevel: logLevel.WARN, logCreator: kafkajsLogCreator(createLogger('trace')) });
      const trace = await traceKey(config, entity.name, key, { kafka, registry: registryClient(config.registry) });
      process.stdout.write(opts.json ? `${JSON.stringify(trace, null, 2)}\n` : renderTrace(trace));
    });
}
