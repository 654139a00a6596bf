import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { createStackContext } from '../../stack/context.ts';
import { ALL_COMPONENTS, OPTIONAL_COMPONENTS, STACK_COMPONENTS, stackDown, stackStatus, stackUp, type StackStatus } from '../../stack/stack.ts';
import { sandboxDown, sandboxStatus, sandboxUp, type SandboxStatus } from '../../sandbox/daemon.ts';

export function printStatus(status: StackStatus, sandbox?: SandboxStatus): void {
  const rows = status.components.map((c) => [c.name, String(c.port), c.healthy ? 'healthy' : 'DOWN', c.pid ? String(c.pid) : '-', c.address]);
  if (sandbox?.running) rows.push(['sandbox', String(sandbox.ports.http), sandbox.healthy ? 'healthy' : 'DOWN', sandbox.pid ? String(sandbox.pid) : '-', sandbox.env?.SF_LOGIN_URL ?? '']);
  const header = ['component', 'port', 'health', 'pid', 'address'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  process.stdout.write([line(header), ...rows.map(line)].join('\n') + '\n');
}

export function register(program: Command): void {
  const stack = program.command('stack').description('the local stack: PostgreSQL, Kafka (KRaft), Kafka Connect + Debezium, schema registry');

  stack
    .command('up')
    .description('start every component that is not already running (idempotent) and bootstrap the shop database')
    .option('--json', 'print the status as JSON when up')
    .option('--sandbox', 'also start the Salesforce sandbox org (`shopforce sandbox up`)')
    .option('--monitoring', 'also start Prometheus (Debian\'s `prometheus` package) with the alert rules of monitoring/, scraping the processors (SHOPFORCE_METRICS_TARGETS, default 127.0.0.1:9464)')
    .action(async (opts: { json?: boolean; sandbox?: boolean; monitoring?: boolean }) => {
      const ctx = createStackContext();
      const started = Date.now();
      const status = await stackUp(ctx, opts.monitoring ? [...STACK_COMPONENTS, ...OPTIONAL_COMPONENTS] : STACK_COMPONENTS);
      const sandbox = opts.sandbox ? await sandboxUp(ctx.stateDir) : undefined;
      if (opts.json) process.stdout.write(JSON.stringify({ ...status, sandbox }, null, 2) + '\n');
      else {
        printStatus(status, sandbox);
        if (sandbox) process.stdout.write(`sandbox org credentials and endpoints: ${sandbox.envFile} (\`shopforce sandbox status\`)\n`);
        process.stdout.write(`stack up in ${((Date.now() - started) / 1000).toFixed(1)} s; state in ${ctx.stateDir}\n`);
      }
    });

  stack
    .command('down')
    .description('stop the processes that `stack up` started, the sandbox org included (data is kept in the state folder)')
    .action(async () => {
      const ctx = createStackContext();
      if (await sandboxDown(ctx.stateDir)) ctx.say('sandbox: stopped');
      await stackDown(ctx);
    });

  stack
    .command('status')
    .description('each component with its port, health and address')
    .option('--json', 'machine-readable, with every address (PostgreSQL URL, Kafka bootstrap, registry, Connect)')
    .action(async (opts: { json?: boolean }) => {
      const ctx = createStackContext({ quiet: true });
      const status = await stackStatus(ctx);
      const sandbox = await sandboxStatus(ctx.stateDir);
      if (opts.json) process.stdout.write(JSON.stringify({ ...status, sandbox }, null, 2) + '\n');
      else printStatus(status, sandbox);
      if (!status.healthy) process.exitCode = 3;
    });

  stack
    .command('logs')
    .description('show the log of one component')
    .argument('<component>', ALL_COMPONENTS.map((c) => c.name).join(' | '))
    .option('-f, --follow', 'keep printing new lines')
    .option('-n, --lines <n>', 'how many lines from the end', '100')
    .action(async (name: string, opts: { follow?: boolean; lines: string }) => {
      const ctx = createStackContext({ quiet: true });
      const component = ALL_COMPONENTS.find((c) => c.name === name);
      if (!component) throw new Error(`unknown component '${name}': choose one of ${ALL_COMPONENTS.map((c) => c.name).join(', ')}`);
      const file = component.logFile(ctx);
      if (!existsSync(file)) throw new Error(`no log yet for ${name} (${file}): has \`shopforce stack up\` run?`);
      const args = ['-n', opts.lines, ...(opts.follow ? ['-F'] : []), file];
      await new Promise<void>((resolve) => spawn('tail', args, { stdio: 'inherit' }).on('close', () => resolve()));
    });
}
