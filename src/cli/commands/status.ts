import type { Command } from 'commander';
import pg from 'pg';
import type { ShopforceConfig } from '../../config/schema.ts';
import { sandboxStatus } from '../../sandbox/daemon.ts';
import { redactUrl } from '../../shop/db.ts';
import { createStackContext } from '../../stack/context.ts';
import { stackAddresses } from '../../stack/stack.ts';
import { pipelineStatus, type PipelineStatus, type ProcessView } from '../../status/status.ts';
import { configFrom, sandboxEnvironment } from '../config-source.ts';

/** One dependency of the pipeline, as its configuration names it. */
export interface DependencyStatus { name: string; healthy: boolean; address: string; detail?: string }

async function check(name: string, address: string, probe: () => Promise<string | void>): Promise<DependencyStatus> {
  try {
    const detail = await probe();
    return { name, healthy: true, address, ...(detail ? { detail } : {}) };
  } catch (err) {
    return { name, healthy: false, address, detail: (err as Error).message };
  }
}

/** Kafka is checked by the stage queries (status fails, naming the brokers, when it cannot reach them); the rest here. */
export function dependencies(config: ShopforceConfig): Promise<DependencyStatus[]> {
  return Promise.all([
    check('registry', config.registry.url, async () => {
      const res = await fetch(`${config.registry.url.replace(/\/$/, '')}/subjects`, { signal: AbortSignal.timeout(3_000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      return `${((await res.json()) as unknown[]).length} subjects`;
    }),
    check('shop database', redactUrl(config.shop.databaseUrl), async () => {
      const client = new pg.Client({ connectionString: config.shop.databaseUrl, connectionTimeoutMillis: 3_000 });
      await client.connect();
      try {
        await client.query('select 1');
      } finally {
        await client.end();
      }
    }),
    check('salesforce', config.salesforce.loginUrl, async () => {
      // the list of API versions needs no login (logging in is the pipeline's business): the org is there
      const res = await fetch(`${config.salesforce.loginUrl.replace(/\/$/, '')}/services/data/`, { signal: AbortSignal.timeout(3_000), redirect: 'manual' });
      if (!res.ok) throw new Error(`HTTP ${res.status} at /services/data/: not a Salesforce login URL?`);
      const versions = (await res.json().catch(() => [])) as Array<{ version?: string }>;
      const newest = versions.map((v) => v.version).filter(Boolean).at(-1);
      return newest ? `REST API up to v${newest}` : 'answers';
    }),
  ]);
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

/** The running process's Salesforce channels, API quota, parked writes and latest alerts. */
function renderProcessView(v: ProcessView): string[] {
  const out: string[] = [];
  if (v.source) {
    out.push(table([
      ['salesforce channel', 'state', 'replay id', 'events', 'last activity', 'last error'],
      ...v.source.channels.map((c) => [c.channel, c.state, c.checkpoint?.replayId ?? 'none yet', String(c.events), c.lastActivityAt ?? '-', c.lastError ?? '']),
      ...(v.source.sharing?.elsewhere ?? []).map((channel) => [channel, 'read by another copy of run', '', '', '', '']),
    ]));
  }
  const quota = v.quota.remainingPercent === null ? 'not known yet (no call made)' : `${v.quota.remainingPercent.toFixed(1)} % of the daily quota left`;
  out.push(`salesforce api: ${quota}; ${v.quota.apiCalls} calls by this process`);
  out.push(`parked writes: ${v.parked === 0 ? 'none' : `${v.parked} waiting for their parent`}`);
  if (v.alerts.length === 0) out.push('alerts: none since the process started');
  else {
    out.push('alerts, newest first:');
    for (const a of v.alerts.slice(0, 5)) out.push(`  ${a.at}  ${a.entity} ${a.key}  ${a.kind}: ${a.message}`);
  }
  return out;
}

export function renderStatus(s: PipelineStatus & { dependencies: DependencyStatus[] }): string {
  const out: string[] = [];
  out.push(table([
    ['component', 'health', 'address', 'detail'],
    ['kafka', 'healthy', s.brokers.join(','), ''],
    ...s.dependencies.map((d) => [d.name, d.healthy ? 'healthy' : 'DOWN', d.address, d.detail ?? '']),
    ['shopforce run', !s.process.reachable ? 'not running' : s.process.ready ? 'ready' : 'NOT READY', s.process.url,
      s.process.checks ? Object.entries(s.process.checks).map(([k, v]) => `${k}${s.process.paused?.[k] ? ' (PAUSED)' : v ? '' : ' (not ready)'}`).join(', ') : s.process.error ?? ''],
  ]));
  out.push('');
  out.push(table([
    ['stage', 'group', 'state', 'copies', 'lag'],
    ...s.stages.map((g) => [g.stage, g.groupId, g.state, String(g.members), String(g.lag)]),
  ]));
  const paused = Object.entries(s.process.paused ?? {});
  if (paused.length) out.push('paused (an error of the environment; nothing is dead-lettered, it resumes by itself once fixed):', ...paused.map(([stage, p]) => `  ${stage} since ${p.since}: ${p.reason}`));
  const behind = s.stages.flatMap((g) => g.topics.filter((t) => t.lag > 0).map((t) => `  ${g.stage} ${t.topic}: ${t.lag}`));
  if (behind.length) out.push('behind, by input topic:', ...behind);
  if (s.process.view) out.push('', ...renderProcessView(s.process.view));
  out.push('');
  const d = s.deadLetters;
  if (!d.exists || d.total === 0) out.push(`dead letters: none (${d.topic})`);
  else {
    out.push(`dead letters: ${d.total} in ${d.topic}, ${d.notReplayed} not replayed (\`shopforce dlq list\`); the latest:`);
    for (const e of d.latest) out.push(`  ${e.failedAt}  ${e.processor}  ${e.source}  key=${e.key ?? '-'}`, `    ${e.failure}/${e.errorClass}: ${e.reason}`);
  }
  return out.join('\n') + '\n';
}

export function register(program: Command): void {
  program
    .command('status')
    .description('is it healthy: the pipeline\'s dependencies, its running process (Salesforce channels, API quota, parked writes, alerts), each stage\'s consumer group and lag, the dead letters and their latest reasons')
    .option('-c, --config <file>', 'configuration of the pipeline (YAML or JSON)', process.env.SHOPFORCE_CONFIG)
    .option('--sandbox', 'the local sandbox pipeline (`run --sandbox`): the example config with the local stack\'s addresses')
    .option('--json', 'machine-readable')
    .option('--dead-letters <n>', 'how many of the latest dead letters to show', '5')
    .action(async (opts: { config?: string; sandbox?: boolean; json?: boolean; deadLetters: string }) => {
      let sandbox: { repoDir: string; env: NodeJS.ProcessEnv } | undefined;
      if (opts.sandbox || !opts.config) {
        const ctx = createStackContext({ quiet: true });
        const org = await sandboxStatus(ctx.stateDir);
        sandbox = { repoDir: ctx.repoDir, env: sandboxEnvironment(stackAddresses(ctx), org.envFile) };
      }
      const { config } = configFrom(opts.config, sandbox);
      const [status, deps] = await Promise.all([
        pipelineStatus(config, { latestDeadLetters: Number(opts.deadLetters) }).catch((err: unknown) => {
          throw new Error(`cannot read the pipeline's state from Kafka (${config.kafka.brokers.join(', ')}): ${(err as Error).message}`);
        }),
        dependencies(config),
      ]);
      const all = { ...status, dependencies: deps };
      process.stdout.write(opts.json ? JSON.stringify(all, null, 2) + '\n' : renderStatus(all));
      const healthy = deps.every((d) => d.healthy) && status.process.ready === true;
      if (!healthy) process.exitCode = 3;
    });
}
