import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertPortFree, isAlive, portOpen, readPid, startDaemon, stopDaemon, waitUntil } from '../stack/process.ts';

const REPO_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const MAIN = join(REPO_DIR, 'src', 'sandbox', 'main.ts');

/** Default ports, each overridable by the environment variable next to it. */
export const SANDBOX_PORT_ENV = {
  http: ['SHOPFORCE_SANDBOX_PORT', 58080],
  https: ['SHOPFORCE_SANDBOX_HTTPS_PORT', 58443],
  pubSub: ['SHOPFORCE_SANDBOX_PUBSUB_PORT', 58444],
} as const;

export interface SandboxPorts { http: number; https: number; pubSub: number }

export function sandboxPorts(env: NodeJS.ProcessEnv = process.env): SandboxPorts {
  const out = {} as SandboxPorts;
  for (const [key, [name, fallback]] of Object.entries(SANDBOX_PORT_ENV) as Array<[keyof SandboxPorts, readonly [string, number]]>) {
    const raw = env[name];
    const port = raw === undefined || raw === '' ? fallback : Number(raw);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${name}=${raw} is not a valid TCP port (1-65535)`);
    out[key] = port;
  }
  return out;
}

export interface SandboxStatus {
  running: boolean;
  healthy: boolean;
  pid?: number;
  stateDir: string;
  envFile: string;
  logFile: string;
  ports: SandboxPorts;
  /** The SF_* variables (also in envFile) when running. */
  env?: Record<string, string>;
}

const paths = (stateDir: string) => {
  const dir = join(stateDir, 'sandbox');
  return { dir, pidFile: join(dir, 'sandbox.pid'), logFile: join(dir, 'sandbox.log'), envFile: join(dir, 'sandbox.env'), infoFile: join(dir, 'sandbox.json') };
};

async function healthy(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/__admin/health`, { signal: AbortSignal.timeout(1500) });
    return res.ok;
  } catch {
    return false;
  }
}

/** The state of the sandbox process under <stateDir>/sandbox. */
export async function sandboxStatus(stateDir: string, env: NodeJS.ProcessEnv = process.env): Promise<SandboxStatus> {
  const p = paths(stateDir);
  const pid = readPid(p.pidFile);
  const running = isAlive(pid);
  let ports = sandboxPorts(env);
  let vars: Record<string, string> | undefined;
  if (running && existsSync(p.infoFile)) {
    const info = JSON.parse(readFileSync(p.infoFile, 'utf8')) as { http: number; https: number; pubSub: number; env: Record<string, string> };
    ports = { http: info.http, https: info.https, pubSub: info.pubSub };
    vars = info.env;
  }
  return {
    running, healthy: running && (await healthy(ports.http)), pid: running ? pid : undefined,
    stateDir: p.dir, envFile: p.envFile, logFile: p.logFile, ports, env: vars,
  };
}

/** Starts the sandbox as a detached process (idempotent) and waits until it answers. */
export async function sandboxUp(stateDir: string, env: NodeJS.ProcessEnv = process.env): Promise<SandboxStatus> {
  const current = await sandboxStatus(stateDir, env);
  if (current.healthy) return current;
  const p = paths(stateDir);
  if (current.running) await stopDaemon(p.pidFile);
  const ports = sandboxPorts(env);
  await assertPortFree(ports.http, 'the sandbox org (HTTP)', SANDBOX_PORT_ENV.http[0]);
  await assertPortFree(ports.https, 'the sandbox org (HTTPS)', SANDBOX_PORT_ENV.https[0]);
  await assertPortFree(ports.pubSub, 'the sandbox org (Pub/Sub gRPC)', SANDBOX_PORT_ENV.pubSub[0]);
  const pid = startDaemon({
    command: process.execPath,
    args: ['--import', 'tsx', MAIN],
    cwd: REPO_DIR,
    env: {
      SANDBOX_STATE_DIR: p.dir,
      SANDBOX_HTTP_PORT: String(ports.http),
      SANDBOX_HTTPS_PORT: String(ports.https),
      SANDBOX_PUBSUB_PORT: String(ports.pubSub),
      // a real org's answer times for benchmarks (src/sandbox/admin/latency.ts)
      ...(env.SHOPFORCE_SANDBOX_LATENCY ? { SANDBOX_LATENCY: env.SHOPFORCE_SANDBOX_LATENCY } : {}),
    },
    logFile: p.logFile,
    pidFile: p.pidFile,
  });
  await waitUntil('sandbox org', async () => existsSync(p.infoFile) && (await healthy(ports.http)) && (await portOpen(ports.pubSub)), {
    timeoutMs: 60_000, intervalMs: 300, logFile: p.logFile, pid,
  });
  return sandboxStatus(stateDir, env);
}

/** Stops the sandbox process (its data stays in <stateDir>/sandbox/data). */
export async function sandboxDown(stateDir: string): Promise<boolean> {
  return stopDaemon(paths(stateDir).pidFile);
}
