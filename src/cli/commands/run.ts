import type { Command } from 'commander';
import { installShutdownHandlers } from '../../kafka/shutdown.ts';
import { createLogger } from '../../observability/logger.ts';
import { startPipeline } from '../../run/pipeline.ts';
import { lazyConnection, salesforceStages } from '../../run/salesforce-stages.ts';
import { restParentLookup } from '../../processors/router.ts';
import { resolveConfig, withConfigOptions, type ConfigOptions } from '../run-config.ts';

interface RunOptions extends ConfigOptions { metricsPort?: string; metricsHost?: string }

export function register(program: Command): void {
  withConfigOptions(program
    .command('run')
    .description('run the sync processors (router, reconciler, sinks, Salesforce source); start several copies to share the partitions'))
    .option('--metrics-port <port>', 'port of /metrics, /healthz, /readyz (overrides observability.metricsPort; 0 = any free port)')
    .option('--metrics-host <address>', 'listen address of /metrics, /healthz, /readyz (overrides observability.metricsHost; 0.0.0.0 = every interface)')
    .action(async (opts: RunOptions) => {
      const log = createLogger('run');
      const { config, file } = await resolveConfig(opts);
      const conn = lazyConnection(config);
      const pipeline = await startPipeline(config, {
        metricsPort: opts.metricsPort === undefined ? undefined : Number(opts.metricsPort),
        metricsHost: opts.metricsHost,
        lookupParent: restParentLookup(conn),
        stages: (shared) => salesforceStages(shared, conn),
      });
      installShutdownHandlers([pipeline], { logger: log });
      const entities = Object.entries(config.entities).filter(([, e]) => e.enabled).map(([n]) => n);
      process.stderr.write([
        `shopforce is running: ${pipeline.stages.map((s) => s.name).join(', ')} for ${entities.join(', ')}`,
        `  config    ${file}`,
        `  metrics   ${pipeline.health.url}/metrics   (ready: ${pipeline.health.url}/readyz)`,
        `  status    ${pipeline.health.url}/status${config.observability.accessToken ? '#token=<observability.accessToken>' : ''}   (a live page: flows, lag, dead letters, quota)`,
        `  topics    npx shopforce kafka console-consumer --topic sync.audit --from-beginning`,
        '  stop      Ctrl-C (finishes the records in hand and commits)',
        '',
      ].join('\n'));
    });
}
