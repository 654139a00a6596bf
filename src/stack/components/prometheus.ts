import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writePrivateFile } from '../private-file.ts';
import type { ComponentStatus, StackComponent, StackContext } from '../component.ts';
import { requireTool } from '../artifacts.ts';
import { assertPortFree, isAlive, readPid, startDaemon, stopDaemon, waitUntil } from '../process.ts';

/**
 * Prometheus for the local stack (`shopforce stack up --monitoring`): Debian's `prometheus` package
 * run as a local process, scraping the processors' /metrics with the alert rules of
 * monitoring/prometheus/rules loaded. Nothing is downloaded: the binary comes from the system.
 *
 * Targets: SHOPFORCE_METRICS_TARGETS (host:port, comma-separated; default 127.0.0.1:9464, where
 * `shopforce run` listens); they live in a file Prometheus re-reads, so running `stack up --monitoring`
 * again with other targets updates a running Prometheus. SHOPFORCE_METRICS_TOKEN: the bearer token
 * when observability.accessToken is set.
 */
export const DEFAULT_METRICS_TARGETS = ['127.0.0.1:9464'];

const dir = (ctx: StackContext) => join(ctx.stateDir, 'prometheus');
const pidFile = (ctx: StackContext) => join(dir(ctx), 'prometheus.pid');
const configFile = (ctx: StackContext) => join(dir(ctx), 'prometheus.yml');
const targetsFile = (ctx: StackContext) => join(dir(ctx), 'targets.json');
const tokenFile = (ctx: StackContext) => join(dir(ctx), 'metrics-token');

/** Where the shopforce alert rules are (loaded as they are, so an edit is one `stack up --monitoring` away). */
export const rulesGlob = (ctx: StackContext) => join(ctx.repoDir, 'monitoring', 'prometheus', 'rules', '*.yml');

export function prometheusUrl(ctx: StackContext): string {
  return `http://127.0.0.1:${ctx.ports.prometheus}`;
}

export function metricsTargets(env: NodeJS.ProcessEnv = process.env): string[] {
  const raw = env.SHOPFORCE_METRICS_TARGETS?.split(',').map((t) => t.trim()).filter(Boolean);
  const targets = raw?.length ? raw : DEFAULT_METRICS_TARGETS;
  for (const t of targets) {
    if (!/^[^\s:/]+:\d+$/.test(t)) throw new Error(`SHOPFORCE_METRICS_TARGETS: "${t}" is not host:port`);
  }
  return targets;
}

/** The Prometheus configuration: 15 s scrapes of the shopforce targets, the repository's rules. */
export function prometheusConfig(ctx: StackContext, withToken: boolean): string {
  return [
    '# written by `shopforce stack up --monitoring` (src/stack/components/prometheus.ts); edits are overwritten',
    'global:',
    '  scrape_interval: 15s',
    '  evaluation_interval: 15s',
    'rule_files:',
    `  - ${JSON.stringify(rulesGlob(ctx))}`,
    'scrape_configs:',
    '  - job_name: shopforce',
    '    metrics_path: /metrics',
    ...(withToken ? ['    authorization:', '      type: Bearer', `      credentials_file: ${JSON.stringify(tokenFile(ctx))}`] : []),
    '    file_sd_configs:',
    `      - files: [${JSON.stringify(targetsFile(ctx))}]`,
    '        refresh_interval: 30s',
    '',
  ].join('\n');
}

function writeConfig(ctx: StackContext): void {
  mkdirSync(dir(ctx), { recursive: true });
  const token = process.env.SHOPFORCE_METRICS_TOKEN;
  if (token) {
    writePrivateFile(tokenFile(ctx), token);
  } else {
    rmSync(tokenFile(ctx), { force: true });
  }
  writeFileSync(targetsFile(ctx), JSON.stringify([{ targets: metricsTargets(), labels: { service: 'shopforce' } }], null, 2) + '\n');
  writeFileSync(configFile(ctx), prometheusConfig(ctx, !!token));
}

async function ready(ctx: StackContext): Promise<boolean> {
  try {
    const res = await fetch(`${prometheusUrl(ctx)}/-/ready`, { signal: AbortSignal.timeout(2000) });
    return res.ok;
  } catch {
    return false;
  }
}

export const prometheus: StackComponent = {
  name: 'prometheus',

  async prepare(ctx) {
    requireTool('prometheus', 'Prometheus runs the alert rules against the processors (`stack up --monitoring`)', 'apt-get install prometheus');
    writeConfig(ctx);
    // already running: take the new rules and config now (targets are re-read by themselves)
    if (await ready(ctx)) await fetch(`${prometheusUrl(ctx)}/-/reload`, { method: 'POST', signal: AbortSignal.timeout(5000) }).catch(() => undefined);
  },

  async start(ctx) {
    const binary = requireTool('prometheus', 'Prometheus runs the alert rules against the processors', 'apt-get install prometheus');
    await assertPortFree(ctx.ports.prometheus, 'Prometheus', 'SHOPFORCE_PROMETHEUS_PORT');
    writeConfig(ctx);
    const pid = startDaemon({
      command: binary,
      args: [
        `--config.file=${configFile(ctx)}`,
        `--storage.tsdb.path=${join(dir(ctx), 'data')}`,
        '--storage.tsdb.retention.time=7d',
        `--web.listen-address=127.0.0.1:${ctx.ports.prometheus}`,
        // POST /-/reload after a rules change (prepare does it)
        '--web.enable-lifecycle',
      ],
      cwd: dir(ctx),
      logFile: this.logFile(ctx),
      pidFile: pidFile(ctx),
    });
    await waitUntil('Prometheus', () => ready(ctx), { timeoutMs: 60_000, logFile: this.logFile(ctx), pid });
  },

  health: ready,

  async status(ctx): Promise<ComponentStatus> {
    const pid = readPid(pidFile(ctx));
    return {
      name: 'prometheus', port: ctx.ports.prometheus, healthy: await ready(ctx), pid: isAlive(pid) ? pid : undefined,
      address: prometheusUrl(ctx), detail: `scrapes the targets in ${targetsFile(ctx)}; rules ${rulesGlob(ctx)}`,
    };
  },

  async stop(ctx) {
    await stopDaemon(pidFile(ctx), 15_000);
  },

  logFile(ctx) {
    return join(dir(ctx), 'prometheus.log');
  },
};
