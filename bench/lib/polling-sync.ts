/**
 * Baseline (b) of bench/side-by-side.ts: a poll-based sync, as polling JDBC connectors work (timestamp
 * mode). Every 10 s it reads the shop's customers and orders whose `updated_at` is past its watermark and
 * upserts those rows into the org, customers first (Accounts, then Contacts), then orders, through sObject
 * Collections (200 records a call), so its latency is the polling's and not the writes'.
 *
 * `updated_at` is the time of the writing transaction's start (now(), migrations/001_row_versioning.sql), so
 * a transaction that commits after a poll can carry a time below that poll's watermark: each poll reads
 * LOOKBACK_MS back from its watermark as well (what a connector's timestamp delay is for) and skips the
 * row versions it already wrote. Both tables are read in one snapshot. Not product code: it is what the latency is compared with.
 */
import type { Connection } from 'jsforce';
import type pg from 'pg';
import { BASELINE_TABLES, baselineWrites, type BaselineMappingOptions, type BaselineWrite } from './baseline-records.ts';

const LOOKBACK_MS = 5_000;
const BATCH = 200;
const KEY_COLUMN = { customers: 'customer_number', orders: 'order_number' } as const;

export interface PollingSyncOptions extends BaselineMappingOptions {
  db: pg.Client;
  shopId: string;
  conn: Connection;
  intervalMs: number;
}

export interface PollingSync {
  /** `failed`: records the org refused and polls that failed; `lastError` says the latest why */
  stats(): { polls: number; rows: number; calls: number; failed: number; lastError: string | null };
  stop(): Promise<void>;
}

/** Starts polling from the database's now(): rows changed from here on are synced, every `intervalMs`. */
export async function startPollingSync(opts: PollingSyncOptions): Promise<PollingSync> {
  const { rows: [start] } = await opts.db.query<{ now: Date }>('SELECT now() AS now');
  const watermark = new Map(BASELINE_TABLES.map((t) => [t, start!.now]));
  const written = new Map<string, number>();
  const stats = { polls: 0, rows: 0, calls: 0, failed: 0, lastError: null as string | null };

  const upsertAll = async (writes: BaselineWrite[]) => {
    for (const sobject of ['Account', 'Contact', 'Opportunity'] as const) {
      const of = writes.filter((w) => w.sobject === sobject);
      for (let i = 0; i < of.length; i += BATCH) {
        stats.calls++;
        const results = await opts.conn.sobject(sobject).upsert(of.slice(i, i + BATCH).map((w) => w.record), of[0]!.externalIdField);
        for (const r of (Array.isArray(results) ? results : [results]).filter((x) => !x.success)) {
          stats.failed++;
          stats.lastError = `${sobject}: ${JSON.stringify((r as { errors?: unknown }).errors)}`;
        }
      }
    }
  };

  const poll = async () => {
    stats.polls++;
    const writes: BaselineWrite[] = [];
    // one snapshot for both tables: read one after the other, a transaction committing in between gave
    // orders whose customers the poll had not seen (their upserts refused, and never tried again)
    await opts.db.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    for (const table of BASELINE_TABLES) {
      const since = new Date(watermark.get(table)!.getTime() - LOOKBACK_MS);
      const { rows } = await opts.db.query<Record<string, unknown> & { updated_at: Date; version: string }>(
        `SELECT * FROM ${table} WHERE shop_id = $1 AND updated_at > $2 ORDER BY updated_at, id`, [opts.shopId, since]);
      for (const row of rows) {
        const key = `${table}|${String(row[KEY_COLUMN[table]])}`;
        if (row.updated_at > watermark.get(table)!) watermark.set(table, row.updated_at);
        if ((written.get(key) ?? 0) >= Number(row.version)) continue;
        written.set(key, Number(row.version));
        stats.rows++;
        writes.push(...baselineWrites(table, row, opts.shopId, opts));
      }
    }
    await opts.db.query('COMMIT');
    await upsertAll(writes);
  };

  let busy = false;
  let current: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    // a poll still running when the next is due makes that one wait for the next tick, as a single-task connector does
    if (busy) return;
    busy = true;
    current = poll().catch(async (err: Error) => { stats.failed++; stats.lastError = err.message; await opts.db.query('ROLLBACK').catch(() => {}); }).finally(() => { busy = false; });
  }, opts.intervalMs);
  return {
    stats: () => ({ ...stats }),
    async stop() {
      clearInterval(timer);
      await current;
    },
  };
}
