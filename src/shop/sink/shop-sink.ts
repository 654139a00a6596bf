import pg from 'pg';
import type { ShopWrite } from '../../entities/types.ts';
import { InfraError, isInfrastructureSqlState } from '../../kafka/errors.ts';
import { createLogger } from '../../observability/logger.ts';
import { againstShopDatabase } from '../outage.ts';
import { recordOwnTransaction } from './own-transactions.ts';

const log = createLogger('shop.sink');

export type ShopWriteOutcome =
  | { commandId: string; status: 'applied'; table: string; key: string }
  | { commandId: string; status: 'duplicate' | 'stale'; table: string; key: string; reason: string }
  | { commandId: string; status: 'failed'; table: string; key: string; reason: string; permanent: boolean };

/** PostgreSQL error classes that a retry can fix: connection, lock, serialization, resources. */
const TRANSIENT_SQLSTATE = /^(08|40|53|55P03|57P0)/;

/**
 * Writes sync.out.shop commands to the shop database as idempotent upserts, one transaction a
 * batch. A bookkeeping row per shop row (shopforce_applied_writes) makes a replayed command a
 * no-op and keeps an older change from overwriting a newer one (ordered by source version, then
 * event time). A bad command fails alone (savepoint) without losing the rest of the batch. Each
 * transaction is recorded in shopforce_sink_transactions, so its changes are known as ours when they come back.
 */
export interface ShopSinkOptions {
  /** server-side statement_timeout of each write: a statement waiting longer (a row lock held elsewhere) is cancelled (57014) */
  statementTimeoutMs?: number;
}

export class ShopSink {
  private readonly statementTimeoutMs: number;

  constructor(private readonly pool: pg.Pool, private readonly schema = 'public', options: ShopSinkOptions = {}) {
    this.statementTimeoutMs = options.statementTimeoutMs ?? 30_000;
    if (!Number.isInteger(this.statementTimeoutMs) || this.statementTimeoutMs <= 0) throw new Error(`shop sink: statementTimeoutMs must be a positive integer, got ${this.statementTimeoutMs}`);
  }

  /**
   * Applies the commands in one transaction. The database down or going away mid-way (a restart) is an
   * InfraError: the stage pauses and writes the batch again once it is back, and the bookkeeping makes
   * the commands of a transaction that did commit before its connection was cut no-ops.
   */
  async write(commands: ShopWrite[]): Promise<ShopWriteOutcome[]> {
    return againstShopDatabase('shop sink', () => this.writeBatch(commands));
  }

  private async writeBatch(commands: ShopWrite[]): Promise<ShopWriteOutcome[]> {
    const client = await this.pool.connect();
    // the server going away while the batch holds the connection: node-postgres fails the statement in
    // hand and also emits 'error' on the client, which the pool stops listening to while the client is
    // checked out; unheard, that event would end the process
    let broken: Error | undefined;
    const onBroken = (err: Error) => { broken = err; };
    client.on('error', onBroken);
    const outcomes: ShopWriteOutcome[] = [];
    try {
      await client.query('BEGIN');
      // a write stuck behind another session's lock is cancelled by the server, not left running beside
      // its retry once the stage pauses; LOCAL: the pool's connections are shared with other readers
      await client.query(`SET LOCAL statement_timeout = ${this.statementTimeoutMs}`);
      // the rows written here will come back through Debezium: this marks them as ours
      await recordOwnTransaction(client);
      // the bookkeeping rows of this batch, each read and locked once and written once before COMMIT:
      // the commands of one entity (a segment's thousands of members) share one, and updating it per
      // command would leave a chain of row versions that every later command of the batch walks
      const bookkeeping = new Map<string, Bookkeeping>();
      for (const cmd of commands) {
        const book = await this.bookkeepingOf(client, cmd, bookkeeping);
        await client.query('SAVEPOINT cmd');
        try {
          const outcome = await this.applyOne(client, cmd, book.last);
          await client.query('RELEASE SAVEPOINT cmd');
          if (outcome.status === 'applied') {
            book.last = { command_id: cmd.commandId, source_position: cmd.sourcePosition, source_version: cmd.sourceVersion === null ? null : String(cmd.sourceVersion), event_time: new Date(cmd.eventTime) };
            book.written = true;
          }
          outcomes.push(outcome);
        } catch (err: any) {
          await client.query('ROLLBACK TO SAVEPOINT cmd');
          const code = String(err?.code ?? '');
          if (TRANSIENT_SQLSTATE.test(code)) throw err;
          // a revoked privilege, a dropped column, a statement timeout: the whole batch waits (the stage pauses)
          if (isInfrastructureSqlState(code)) throw new InfraError(`shop database: SQLSTATE ${code}: ${err?.message ?? err} (${cmd.table})`, { cause: err });
          outcomes.push({ commandId: cmd.commandId, status: 'failed', table: cmd.table, key: cmd.key, reason: `${code ? `SQLSTATE ${code}: ` : ''}${err?.message ?? err}`, permanent: true });
        }
      }
      for (const book of bookkeeping.values()) {
        if (!book.written) continue;
        await client.query(
          `UPDATE shopforce_applied_writes SET command_id = $3, source_position = $4, source_version = $5, event_time = $6, applied_at = now()
           WHERE table_name = $1 AND row_key = $2`,
          [book.table, book.key, book.last.command_id, book.last.source_position, book.last.source_version, book.last.event_time],
        );
      }
      await client.query('COMMIT');
    } catch (err) {
      if (!broken) await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.removeListener('error', onBroken);
      // a broken connection is dropped, not handed to the next batch
      client.release(broken);
    }
    for (const o of outcomes) if (o.status === 'failed') log.warn({ command: o.commandId, table: o.table, key: o.key, reason: o.reason }, 'shop write failed');
    return outcomes;
  }

  /** The last write applied to the command's entity rows: locked (created if new) the first time the batch meets it. */
  private async bookkeepingOf(client: pg.PoolClient, cmd: ShopWrite, batch: Map<string, Bookkeeping>): Promise<Bookkeeping> {
    const id = `${cmd.table}\u0000${cmd.key}`;
    const known = batch.get(id);
    if (known) return known;
    // lock the row's bookkeeping (creating it) so concurrent sinks serialise per row
    await client.query(
      `INSERT INTO shopforce_applied_writes (table_name, row_key, command_id, source_position, source_version, event_time)
       VALUES ($1, $2, '', '', NULL, to_timestamp(0)) ON CONFLICT DO NOTHING`,
      [cmd.table, cmd.key],
    );
    const { rows } = await client.query(
      'SELECT command_id, source_position, source_version, event_time FROM shopforce_applied_writes WHERE table_name = $1 AND row_key = $2 FOR UPDATE',
      [cmd.table, cmd.key],
    );
    const book: Bookkeeping = { table: cmd.table, key: cmd.key, last: rows[0] as AppliedWrite, written: false };
    batch.set(id, book);
    return book;
  }

  private async applyOne(client: pg.PoolClient, cmd: ShopWrite, last: AppliedWrite): Promise<ShopWriteOutcome> {
    const base = { commandId: cmd.commandId, table: cmd.table, key: cmd.key };
    if (last.command_id === cmd.commandId) return { ...base, status: 'duplicate', reason: 'command already applied' };
    if (isOlder(cmd, last)) {
      return { ...base, status: 'stale', reason: `a newer change (version ${last.source_version ?? '-'}, ${last.event_time.toISOString()}) is already applied` };
    }
    if (cmd.operation === 'DELETE') await this.delete(client, cmd);
    else await this.upsert(client, cmd);
    return { ...base, status: 'applied' };
  }

  private table(cmd: ShopWrite): string {
    return `${pg.escapeIdentifier(this.schema)}.${pg.escapeIdentifier(cmd.table)}`;
  }

  /**
   * UPDATE first, INSERT when the row is not there: a write may carry only the columns the other
   * side masters (e.g. a customer's credit status), and PostgreSQL checks NOT NULL on the INSERT
   * part of INSERT ... ON CONFLICT before it finds the conflict.
   */
  private async upsert(client: pg.PoolClient, cmd: ShopWrite): Promise<void> {
    const columns = Object.keys(cmd.row);
    for (const k of cmd.keyColumns) if (!columns.includes(k)) throw new Error(`write for ${cmd.table} ${cmd.key} lacks key column ${k}`);
    const values = columns.filter((c) => !cmd.keyColumns.includes(c));
    if (values.length > 0) {
      const set = values.map((c, i) => `${pg.escapeIdentifier(c)} = $${i + 1}`).join(', ');
      const where = cmd.keyColumns.map((c, i) => `${pg.escapeIdentifier(c)} = $${values.length + i + 1}`).join(' AND ');
      const updated = await client.query(`UPDATE ${this.table(cmd)} SET ${set} WHERE ${where}`, [...values.map((c) => cmd.row[c]), ...cmd.keyColumns.map((c) => cmd.row[c])]);
      if (updated.rowCount) return;
    }
    const ident = columns.map((c) => pg.escapeIdentifier(c));
    const conflict = cmd.keyColumns.map((c) => pg.escapeIdentifier(c)).join(', ');
    await client.query(
      `INSERT INTO ${this.table(cmd)} (${ident.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')}) ON CONFLICT (${conflict}) DO NOTHING`,
      columns.map((c) => cmd.row[c]),
    );
  }

  private async delete(client: pg.PoolClient, cmd: ShopWrite): Promise<void> {
    const where = cmd.keyColumns.map((c, i) => `${pg.escapeIdentifier(c)} = $${i + 1}`).join(' AND ');
    await client.query(`DELETE FROM ${this.table(cmd)} WHERE ${where}`, cmd.keyColumns.map((c) => cmd.row[c]));
  }
}

interface AppliedWrite { command_id: string; source_position: string; source_version: string | null; event_time: Date }

/** One bookkeeping row as a batch holds it: the last write applied, and whether the batch changed it. */
interface Bookkeeping { table: string; key: string; last: AppliedWrite; written: boolean }

/** "pg" for a shop change, "sf" for a Salesforce one: versions only compare within one origin. */
const originOf = (position: string) => position.slice(0, position.indexOf(':') + 1);

/**
 * Older = a lower source version of the same origin (shop row versions and Salesforce commit
 * numbers are different clocks); across origins, or without versions, an earlier event time.
 */
function isOlder(cmd: ShopWrite, last: AppliedWrite): boolean {
  const sameOrigin = originOf(cmd.sourcePosition) === originOf(last.source_position);
  if (sameOrigin && cmd.sourceVersion !== null && last.source_version !== null) {
    const stored = Number(last.source_version);
    if (cmd.sourceVersion !== stored) return cmd.sourceVersion < stored;
  }
  return cmd.eventTime < last.event_time.getTime();
}
