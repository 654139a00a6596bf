/**
 * The configuration a long-running command works with: `--config <file>` (or SHOPFORCE_CONFIG), or
 * `--sandbox`: the local stack and the Salesforce sandbox org, started if needed, with
 * examples/shopforce.sandbox.yaml and their addresses and credentials in the environment.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { parse as parseEnv } from 'dotenv';
import { loadConfig } from '../config/load.ts';
import type { ShopforceConfig } from '../config/schema.ts';
import { sandboxUp } from '../sandbox/daemon.ts';
import { createStackContext } from '../stack/context.ts';
import { stackUp } from '../stack/stack.ts';

export const SANDBOX_CONFIG = 'examples/shopforce.sandbox.yaml';

export interface ConfigOptions { config?: string; sandbox?: boolean }

/** Adds --config and --sandbox to a command. */
export function withConfigOptions(command: Command): Command {
  return command
    .option('-c, --config <file>', 'configuration file (YAML or JSON); secrets come from the environment', process.env.SHOPFORCE_CONFIG)
    .option('--sandbox', `start the local stack and the Salesforce sandbox org if needed, and use ${SANDBOX_CONFIG}`);
}

/** The configuration, its file, and the environment it was read with (the sandbox's SF_* variables included). */
export async function resolveConfig(opts: ConfigOptions): Promise<{ config: ShopforceConfig; file: string; env: NodeJS.ProcessEnv }> {
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
  return { config: loadConfig(file, env), file, env };
}
