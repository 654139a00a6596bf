import type { Command } from 'commander';
import { installShutdownHandlers } from '../../kafka/shutdown.ts';
import { createLogger } from '../../observability/logger.ts';
import { startPipeline } from '../../run/pipeline.ts';
import { lazyConnection, salesforceStages } from '../../run/salesforce-stages.ts';
import { restParentLookup } from '../../processors/router.ts';
import { sandboxUp } from '../../sandbox/daemon.ts';
import { createStackContext } from '../../stack/context.ts';
import { stackUp } from '../../stack/stack.ts';
import { resolveConfig, SANDBOX_CONFIG, sandboxEnvironment } from '../config-source.ts';

interface RunOptions { config?: string; sandbox?: boolean; metricsPort?: string; metricsHost?: string }

export function register(program: Command): void {
  program
    .command('run')
    .description('run the sync processors (router, reconciler, sinks, Salesforce source); start several copies to share the partitions')
    .option('-c, --config <file>', 'configuration file (YAML or JSON); secrets come from the environment', process.env.SHOPFORCE_CONFIG)
    .option('--sandbox', `start the local stack and the Salesforce sandbox org if needed, and run with ${SANDBOX_CONFIG}`)
    .option('--metrics-port <port>', 'port of /metrics, /healthz, /readyz (overrides observability.metricsPort; 0 = any free port)')
    .option('--metrics-host <address>', 'listen address of /metrics, /healthz, /readyz (overrides observability.metricsHost; 0.0.0.0 = every interface)')
    .action(async (opts: RunOptions) => {
      const log = createLogger('run');
      let sandbox: { repoDir: string; env: NodeJS.ProcessEnv } | undefined;
      if (opts.sandbox) {
        const ctx = createStackContext();
        const { addresses } = await stackUp(ctx);
        const org = await sandboxUp(ctx.stateDir);
        if (!org.healthy) throw new Error(`the sandbox org did not come up: see ${org.logFile}`);
        sandbox = { repoDir: ctx.repoDir, env: sandboxEnvironment(addresses, org.envFile) };
      }
      const { file, config } = resolveConfig(opts.config, sandbox);
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
        `  topics    npx shopforce kafka console-consumer --topic sync.audit --from-beginning`,
        '  stop      Ctrl-C (finishes the records in hand and commits)',
        '',
      ].join('\n'));
    });
}
