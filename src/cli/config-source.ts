import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseEnv } from 'dotenv';
import { loadConfig } from '../config/load.ts';
import type { ShopforceConfig } from '../config/schema.ts';
import type { StackAddresses } from '../stack/stack.ts';

export const SANDBOX_CONFIG = 'examples/shopforce.sandbox.yaml';

/**
 * The environment the sandbox example config is read with: the local stack's own addresses (its
 * ports may have been moved with SHOPFORCE_*_PORT) and the sandbox org's SF_* variables; anything
 * set in the environment wins.
 */
export function sandboxEnvironment(addresses: StackAddresses, sandboxEnvFile: string | undefined, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const stackEnv = {
    SHOPFORCE_KAFKA_BROKERS: addresses.kafka.brokers.join(','),
    SHOPFORCE_REGISTRY_URL: addresses.registry.url,
    SHOP_DATABASE_URL: addresses.postgres.url,
  };
  const sandbox = sandboxEnvFile && existsSync(sandboxEnvFile) ? parseEnv(readFileSync(sandboxEnvFile)) : {};
  return { ...env, ...stackEnv, ...sandbox, ...env };
}

/** Loads --config (or SHOPFORCE_CONFIG); with `sandbox`, the example config of the local sandbox. */
export function resolveConfig(file: string | undefined, sandbox: { repoDir: string; env: NodeJS.ProcessEnv } | undefined): { file: string; config: ShopforceConfig } {
  const path = file ?? (sandbox ? join(sandbox.repoDir, SANDBOX_CONFIG) : undefined);
  if (!path) throw new Error('no configuration: pass --config <file> (or SHOPFORCE_CONFIG), or --sandbox for the local sandbox');
  if (!existsSync(path)) throw new Error(`configuration file ${path} does not exist`);
  return { file: path, config: loadConfig(path, sandbox?.env ?? process.env) };
}
