/**
 * The configuration a long-running command works with: `--config <file>` (or SHOPFORCE_CONFIG), or
 * `--sandbox`: the local stack and the Salesforce sandbox org, started if needed, with
 * examples/shopforce.sandbox.yaml and their addresses and credentials in the environment.
 */
import type { Command } from 'commander';
import type { ShopforceConfig } from '../config/schema.ts';
import { sandboxUp } from '../sandbox/daemon.ts';
import { createStackContext } from '../stack/context.ts';
import { stackUp } from '../stack/stack.ts';
import { configFrom, SANDBOX_CONFIG, sandboxEnvironment } from './config-source.ts';

export interface ConfigOptions { config?: string; sandbox?: boolean }

/** Adds --config and --sandbox to a command. */
export function withConfigOptions(command: Command): Command {
  return command
    .option('-c, --config <file>', 'configuration file (YAML or JSON); secrets come from the environment', process.env.SHOPFORCE_CONFIG)
    .option('--sandbox', `start the local stack and the Salesforce sandbox org if needed, and use ${SANDBOX_CONFIG}`);
}

/** The configuration, its file, and the environment it was read with (the sandbox's SF_* variables included). */
export async function resolveConfig(opts: ConfigOptions): Promise<{ config: ShopforceConfig; file: string; env: NodeJS.ProcessEnv }> {
  let sandbox: { repoDir: string; env: NodeJS.ProcessEnv } | undefined;
  if (opts.sandbox) {
    const ctx = createStackContext();
    const { addresses } = await stackUp(ctx);
    const org = await sandboxUp(ctx.stateDir);
    if (!org.healthy) throw new Error(`the sandbox org did not come up: see ${org.logFile}`);
    sandbox = { repoDir: ctx.repoDir, env: sandboxEnvironment(addresses, org.envFile) };
  }
  const { file, config } = configFrom(opts.config, sandbox);
  return { config, file, env: sandbox?.env ?? process.env };
}
