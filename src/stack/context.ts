import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StackContext, StackPorts } from './component.ts';

export const REPO_DIR = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** Default ports, each overridable by the environment variable next to it. */
export const PORT_ENV: Record<keyof StackPorts, [string, number]> = {
  postgres: ['SHOPFORCE_PG_PORT', 55432],
  kafka: ['SHOPFORCE_KAFKA_PORT', 59092],
  kafkaController: ['SHOPFORCE_KAFKA_CONTROLLER_PORT', 59093],
  connect: ['SHOPFORCE_CONNECT_PORT', 58083],
  registry: ['SHOPFORCE_REGISTRY_PORT', 58081],
  sandbox: ['SHOPFORCE_SANDBOX_PORT', 58080],
  sandboxPubSub: ['SHOPFORCE_SANDBOX_PUBSUB_PORT', 58444],
  prometheus: ['SHOPFORCE_PROMETHEUS_PORT', 59090],
};

export function resolvePorts(env: NodeJS.ProcessEnv = process.env): StackPorts {
  const ports = {} as StackPorts;
  for (const [key, [variable, fallback]] of Object.entries(PORT_ENV) as Array<[keyof StackPorts, [string, number]]>) {
    const raw = env[variable];
    const port = raw === undefined || raw === '' ? fallback : Number(raw);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new Error(`${variable}=${raw} is not a valid TCP port (1-65535)`);
    }
    ports[key] = port;
  }
  return ports;
}

export interface ContextOptions {
  stateDir?: string;
  cacheDir?: string;
  quiet?: boolean;
  env?: NodeJS.ProcessEnv;
}

/** The state folder defaults to <repo>/.stack, the artifact cache to ~/.cache/shopforce. */
export function createStackContext(opts: ContextOptions = {}): StackContext {
  const env = opts.env ?? process.env;
  return {
    repoDir: REPO_DIR,
    stateDir: resolve(opts.stateDir ?? env.SHOPFORCE_STATE_DIR ?? join(REPO_DIR, '.stack')),
    cacheDir: resolve(opts.cacheDir ?? env.SHOPFORCE_CACHE_DIR ?? join(homedir(), '.cache', 'shopforce')),
    ports: resolvePorts(env),
    say: opts.quiet ? () => {} : (line) => process.stderr.write(`${line}\n`),
  };
}
