import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { parse as parseEnv } from 'dotenv';
import { readFileSync } from 'node:fs';
import { loadConfig } from '../../config/load.ts';
import { installShutdownHandlers } from '../../kafka/shutdown.ts';
import { createLogger } from '../../observability/logger.ts';
import { startPipeline } from '../../run/pipeline.ts';
import { lazyConnection, salesforceStages } from '../../run/salesforce-stages.ts';
import { restParentLookup } from '../../processors/router.ts';
import { sandboxUp } from '../../sandbox/daemon.ts';
import { createStackContext } from '../../stack/context.ts';
import { stackUp } from '../../stack/stack.ts';

export const SANDBOX_CONFIG = 'examples/shopforce.sandbox.yaml';

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
      const env: NodeJS.ProcessEnv = { ...process.env };
      let file = opts.config;
      if (opts.sandbox) {
        const ctx = createStackContext();
        const { addresses } = await stackUp(ctx);
        const sandbox = await sandboxUp(ctx.stateDir);
        if (!sandbox.healthy) throw new Error(`the sandbox org did not come up: see ${sandbox.logFile}`);
        // the stack's own addresses (its ports may have been moved with SHOPFORCE_*_PORT) and the
        // sandbox's SF_* variables; anything set in the environment wins
        const stackEnv = {
          SHOPFORCE_KAFKA_BROKERS: addresses.kafka.brokers.join(','),
          SHOPFORCE_REGISTRY_URL: addresses.registry.url,
          SHOP_DATABASE_URL: addresses.postgres.url,
        };
        Object.assign(env, stackEnv, parseEnv(readFileSync(sandbox.envFile)), { ...process.env });
        file ??= join(ctx.repoDir, SANDBOX_CONFIG);
      }
      if (!file) throw new Error('no configuration: pass --config <file> (or SHOPFORCE_CONFIG), or --sandbox to run against the local sandbox');
      if (!existsSync(file)) throw new Error(`configuration file ${file} does not exist`);
      const config = loadConfig(file, env);
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
