/**
 * Process entry of the sandbox org emulator (started detached by `shopforce sandbox up`).
 * Environment: SANDBOX_STATE_DIR (required), SANDBOX_HOST, SANDBOX_HTTP_PORT, SANDBOX_HTTPS_PORT,
 * SANDBOX_PUBSUB_PORT, SANDBOX_MODEL_FILE, SANDBOX_SESSION_TTL_SECONDS, SANDBOX_DAILY_API_LIMIT,
 * SANDBOX_CDC_RETENTION_MS, SANDBOX_LATENCY (none | real-org). Writes <state>/sandbox.env and <state>/sandbox.json when listening.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '../observability/logger.ts';
import { writePrivateFile } from '../stack/private-file.ts';
import { startSandbox } from './server.ts';
import { sandboxEnv, writeEnvFile } from './env-file.ts';

const log = createLogger('sandbox-main');
const env = process.env;
const stateDir = env.SANDBOX_STATE_DIR;
if (!stateDir) {
  log.error('SANDBOX_STATE_DIR is not set');
  process.exit(2);
}
const num = (name: string): number | undefined => {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new Error(`${name}=${raw} is not a number`);
  return n;
};

const handle = await startSandbox({
  dataDir: join(stateDir, 'data'),
  // 0.0.0.0 in a container (docker-compose); loopback by default
  host: env.SANDBOX_HOST || undefined,
  httpPort: num('SANDBOX_HTTP_PORT') ?? 58080,
  httpsPort: num('SANDBOX_HTTPS_PORT') ?? 58443,
  pubSubPort: num('SANDBOX_PUBSUB_PORT') ?? 58444,
  modelFile: env.SANDBOX_MODEL_FILE || undefined,
  sessionTtlSeconds: num('SANDBOX_SESSION_TTL_SECONDS'),
  dailyApiLimit: num('SANDBOX_DAILY_API_LIMIT'),
  cdcRetentionMs: num('SANDBOX_CDC_RETENTION_MS'),
  latency: (env.SANDBOX_LATENCY || undefined) as 'none' | 'real-org' | undefined,
});

const vars = sandboxEnv(handle);
writeEnvFile(join(stateDir, 'sandbox.env'), vars);
writePrivateFile(join(stateDir, 'sandbox.json'), JSON.stringify({ pid: process.pid, ...handle.ports, env: vars }, null, 2));
log.info({ loginUrl: handle.loginUrl, pubSub: handle.pubSubEndpoint }, 'sandbox org ready');

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'stopping the sandbox org');
  await handle.stop();
  rmSync(join(stateDir, 'sandbox.json'), { force: true });
  process.exit(0);
};
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
