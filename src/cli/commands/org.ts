import type { Command } from 'commander';
import { connectSalesforce } from '../../salesforce/auth/connection.ts';
import { checkOrg, orgNeeds } from '../../salesforce/org-check.ts';
import { commandConfig } from '../command-config.ts';

interface OrgCheckOptions { config?: string; sandbox?: boolean; json?: boolean }

export function register(program: Command): void {
  const org = program.command('org').description('the Salesforce org the pipeline syncs with');
  org
    .command('check')
    .description('verify the org before start: each enabled flow\'s external id fields exist and are External ID and Unique, Change Data Capture is on for the synced objects, the connected user may create and update them; one line per gap, exit code 1 when there is any')
    .option('-c, --config <file>', 'configuration of the pipeline (YAML or JSON)', process.env.SHOPFORCE_CONFIG)
    .option('--sandbox', 'the local sandbox org (`run --sandbox`): the example config with the local stack\'s addresses')
    .option('--json', 'the gaps as JSON')
    .action(async (opts: OrgCheckOptions) => {
      const config = await commandConfig(opts);
      const conn = await connectSalesforce(config.salesforce);
      const gaps = await checkOrg(conn, config);
      const objects = orgNeeds(config).map((n) => n.object);
      if (opts.json) process.stdout.write(`${JSON.stringify({ org: conn.instanceUrl, objects, gaps }, null, 2)}\n`);
      else if (gaps.length === 0) process.stdout.write(`the org ${conn.instanceUrl} has what the enabled flows need: ${objects.join(', ')}\n`);
      else process.stdout.write([`the org ${conn.instanceUrl} lacks ${gaps.length} thing(s) the enabled flows need:`, ...gaps.map((g) => `  ${g.message}`), ''].join('\n'));
      if (gaps.length > 0) process.exitCode = 1;
    });
}
