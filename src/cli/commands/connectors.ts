import path from 'node:path';
import type { Command } from 'commander';
import { REPO_DIR } from '../../stack/context.ts';
import { applyConnector, describe, removeConnector } from '../../connect/apply.ts';
import { ConnectClient } from '../../connect/client.ts';
import { connectorVarsFromEnv, connectUrlFromEnv } from '../../connect/vars.ts';

export const DEFAULT_CONNECTOR_FILE = path.join(REPO_DIR, 'connectors', 'shop-postgres.json');

function collectVar(value: string, previous: Record<string, string>): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new Error(`--var ${value}: expected NAME=value`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

export function register(program: Command): void {
  const connectors = program
    .command('connectors')
    .description('manage Kafka Connect connectors (Debezium) through Connect\'s REST API')
    .option('--connect-url <url>', 'Kafka Connect REST URL (default: the stack\'s, or SHOPFORCE_CONNECT_URL)');

  const urlOf = () => (connectors.opts<{ connectUrl?: string }>().connectUrl ?? connectUrlFromEnv());

  connectors
    .command('apply')
    .description('validate, create or update a connector, and wait until it and its tasks are RUNNING')
    .argument('[file]', 'connector definition (Kafka Connect REST body)', DEFAULT_CONNECTOR_FILE)
    .option('--var <NAME=value>', 'value for a ${NAME} placeholder (repeatable; default: SHOP_* env, then the stack)', collectVar, {})
    .option('--timeout <ms>', 'how long to wait for RUNNING', (v) => Number(v), 120_000)
    .option('--no-preflight', 'skip the direct database checks (tables, publication, role)')
    .action(async (file: string, opts: { var: Record<string, string>; timeout: number; preflight: boolean }) => {
      const vars = { ...connectorVarsFromEnv(), ...opts.var };
      const result = await applyConnector(path.resolve(file), vars, {
        connectUrl: urlOf(),
        timeoutMs: opts.timeout,
        preflight: opts.preflight,
        say: (line) => process.stderr.write(`${line}\n`),
      });
      process.stdout.write(`${result.name}: ${describe(result.status)}\n`);
    });

  connectors
    .command('status')
    .description('each connector with its state and its tasks\' states (traces of failed ones)')
    .option('--json', 'print Connect\'s status objects as JSON')
    .action(async (opts: { json?: boolean }) => {
      const statuses = await new ConnectClient(urlOf()).listStatuses();
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(statuses, null, 2)}\n`);
        return;
      }
      const names = Object.keys(statuses).sort();
      if (names.length === 0) process.stdout.write('no connectors\n');
      for (const name of names) {
        const status = statuses[name]!;
        process.stdout.write(`${name}: ${describe(status)}\n`);
        const traces = [
          ...(status.connector.trace ? [['connector', status.connector.trace] as const] : []),
          ...status.tasks.filter((t) => t.trace).map((t) => [`task ${t.id}`, t.trace!] as const),
        ];
        for (const [what, trace] of traces) process.stdout.write(`  ${what} trace:\n    ${trace.split('\n').join('\n    ')}\n`);
      }
    });

  connectors
    .command('delete')
    .description('delete a connector (its replication slot stays: drop it in PostgreSQL if it is gone for good)')
    .argument('<name>')
    .option('--forget-offsets', 'also clear its stored offsets, so re-creating it snapshots again')
    .action(async (name: string, opts: { forgetOffsets?: boolean }) => {
      const existed = await removeConnector(new ConnectClient(urlOf()), name, { forgetOffsets: opts.forgetOffsets ?? false });
      process.stdout.write(existed ? `deleted ${name}\n` : `no connector named ${name}\n`);
      if (!existed) process.exitCode = 1;
    });

  connectors
    .command('restart')
    .description('restart a connector and its tasks')
    .argument('<name>')
    .option('--only-failed', 'restart only failed instances')
    .action(async (name: string, opts: { onlyFailed?: boolean }) => {
      await new ConnectClient(urlOf()).restart(name, { includeTasks: true, onlyFailed: opts.onlyFailed ?? false });
      process.stdout.write(`restart of ${name} requested\n`);
    });
}
