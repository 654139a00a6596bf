import { logLevel } from 'kafkajs';
import type { Command } from 'commander';
import pg from 'pg';
import { registryClient } from '../../avro/registry.ts';
import { createKafka } from '../../kafka/client.ts';
import { runBackfill, progressFor, type BackfillReport, type Direction } from '../../backfill/index.ts';
import { createLogger } from '../../observability/logger.ts';
import { kafkajsLogCreator } from '../../observability/kafkajs-logger.ts';
import { lazyConnection } from '../../run/salesforce-stages.ts';
import { resolveConfig, withConfigOptions, type ConfigOptions } from '../run-config.ts';

interface BackfillOptions extends ConfigOptions { to: Direction; since?: string; restart?: boolean }

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--since`: an ISO-8601 instant, or a span back from now (30m, 12h, 7d). */
export function parseSince(text: string, now = Date.now()): number {
  const span = /^(\d+)([mhd])$/.exec(text);
  if (span) return now - Number(span[1]) * UNITS[span[2]!]!;
  const at = Date.parse(text);
  if (Number.isNaN(at)) throw new Error(`--since ${text}: expected an ISO-8601 time (2026-03-01T00:00:00Z) or a span such as 30m, 12h, 7d`);
  return at;
}

export function summary(r: BackfillReport): string {
  const seconds = r.ms / 1000;
  const calls = Object.entries(r.callsByOperation).map(([op, n]) => `${op} ${n}`).join(', ');
  return [
    `backfill ${r.entity} -> ${r.to} (run ${r.run}): ${r.state}${r.resumedFrom ? `, resumed after ${r.resumedFrom}` : ''}`,
    `  ${r.records} records in ${seconds.toFixed(1)} s (${Math.round((r.records - r.resumedFrom) / Math.max(seconds, 0.001))} records/s); ${r.handedOver} handed over to the reconciler`,
    `  ${r.apiCalls} Salesforce API calls${calls ? ` (${calls})` : ''}`,
    `  ${r.deadLetters} dead letters${r.deadLetters ? ' (shopforce dlq list)' : ''}; ${r.skipped} skipped (another shop's, or without a business key)`,
  ].join('\n');
}

/** `shopforce backfill <entity> --to salesforce|shop`: see src/backfill/index.ts. */
export function register(program: Command): void {
  withConfigOptions(program
    .command('backfill <entity>')
    .description('load what one side already holds into the other (Bulk API 2.0), handing each record to the reconciler; resumable (Ctrl-C stops after the chunk in hand)'))
    .requiredOption('--to <side>', 'salesforce (shop rows upserted into the org) or shop (org records queried and synced to the shop)')
    .option('--since <time>', 'only records changed since: an ISO-8601 time or a span back from now (30m, 12h, 7d)')
    .option('--restart', 'drop an interrupted run\'s checkpoint and start again')
    .action(async (entity: string, opts: BackfillOptions) => {
      if (opts.to !== 'salesforce' && opts.to !== 'shop') throw new Error(`--to ${opts.to}: expected salesforce or shop`);
      const since = opts.since === undefined ? null : parseSince(opts.since);
      const { config } = await resolveConfig(opts);
      const log = createLogger('backfill');
      const kafka = createKafka(config.kafka, `${config.kafka.clientId}-backfill`, { logLevel: logLevel.WARN, logCreator: kafkajsLogCreator(log) });
      const pool = new pg.Pool({ connectionString: config.shop.databaseUrl, max: 2 });
      const stop = new AbortController();
      const onSignal = () => {
        if (stop.signal.aborted) process.exit(130);
        process.stderr.write('\nstopping after the chunk in hand (Ctrl-C again to leave at once; the next run resumes from the checkpoint)\n');
        stop.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const report = await runBackfill({
          config, kafka, pool, log, registry: registryClient(config.registry), conn: lazyConnection(config),
          progress: (label) => progressFor(label), signal: stop.signal,
        }, { entity, to: opts.to, since, restart: opts.restart });
        process.stdout.write(`${summary(report)}\n`);
        if (report.state === 'interrupted') process.exitCode = 130;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await pool.end();
      }
    });
}
