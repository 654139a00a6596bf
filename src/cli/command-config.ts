import type { ShopforceConfig } from '../config/schema.ts';
import { sandboxStatus } from '../sandbox/daemon.ts';
import { createStackContext } from '../stack/context.ts';
import { stackAddresses } from '../stack/stack.ts';
import { configFrom, sandboxEnvironment } from './config-source.ts';

/**
 * The configuration a command that reads the pipeline's world (drift, trace) works with: --config,
 * else the local sandbox's (the example config with the local stack's addresses), starting nothing.
 */
export async function commandConfig(opts: { config?: string; sandbox?: boolean }): Promise<ShopforceConfig> {
  let sandbox: { repoDir: string; env: NodeJS.ProcessEnv } | undefined;
  if (opts.sandbox || !opts.config) {
    const ctx = createStackContext({ quiet: true });
    const org = await sandboxStatus(ctx.stateDir);
    sandbox = { repoDir: ctx.repoDir, env: sandboxEnvironment(stackAddresses(ctx), org.envFile) };
  }
  return configFrom(opts.config, sandbox).config;
}
