/**
 * The shop sink's own transactions (shopforce_sink_transactions): the sink records each transaction
 * it writes in, and the router asks whether a row change's transaction (Debezium's source.txId) is
 * one of them, so our own writes coming back are told from a person's edit by origin, not by value.
 */
import type pg from 'pg';
import { againstShopDatabase } from '../outage.ts';

/** PostgreSQL's 64-bit transaction id folded to the 32-bit xid that logical decoding reports. */
const XID_OF_CURRENT = 'txid_current() % 4294967296';
const PURGE_EVERY_MS = 3_600_000;

/** Records the current transaction as ours; call inside the sink's transaction. */
export async function recordOwnTransaction(client: pg.PoolClient | pg.Client): Promise<void> {
  await client.query(
    `INSERT INTO shopforce_sink_transactions (xid) VALUES (${XID_OF_CURRENT})
     ON CONFLICT (xid) DO UPDATE SET recorded_at = now()`,
  );
}

/**
 * Answers "was this transaction ours?", remembering answers: a transaction Debezium streamed has
 * committed, and ours recorded itself before committing, so an answer never changes.
 */
export class OwnTransactions {
  private readonly known = new Map<string, boolean>();
  private lastPurge = 0;

  constructor(private readonly pool: pg.Pool, private readonly cacheSize = 50_000) {}

  async isOurs(txId: string): Promise<boolean> {
    const cached = this.known.get(txId);
    if (cached !== undefined) return cached;
    if (!/^\d+$/.test(txId)) return false; // no transaction id in the event (e.g. "lsn:<n>")
    // the database down (a restart) is an InfraError: the router pauses rather than guess or dead-letter the change
    const { rowCount } = await againstShopDatabase('own transactions', () => this.pool.query('SELECT 1 FROM shopforce_sink_transactions WHERE xid = $1', [txId]));
    this.remember(txId, (rowCount ?? 0) > 0);
    await this.purgeNowAndThen();
    return this.known.get(txId)!;
  }

  /**
   * Looks up at once the transactions not known yet (a chunk of changes: one query instead of one per
   * transaction), so that isOurs answers them from memory.
   */
  async learn(txIds: Iterable<string>): Promise<void> {
    const unknown = [...new Set(txIds)].filter((id) => /^\d+$/.test(id) && !this.known.has(id)).slice(0, this.cacheSize);
    if (unknown.length === 0) return;
    const { rows } = await againstShopDatabase('own transactions', () => this.pool.query<{ xid: string }>('SELECT xid::text AS xid FROM shopforce_sink_transactions WHERE xid = ANY($1::bigint[])', [unknown]));
    const ours = new Set(rows.map((r) => r.xid));
    for (const id of unknown) this.remember(id, ours.has(id));
    await this.purgeNowAndThen();
  }

  private remember(txId: string, ours: boolean): void {
    if (this.known.size >= this.cacheSize) this.known.delete(this.known.keys().next().value!);
    this.known.set(txId, ours);
  }

  private async purgeNowAndThen(): Promise<void> {
    if (Date.now() - this.lastPurge < PURGE_EVERY_MS) return;
    this.lastPurge = Date.now();
    await againstShopDatabase('own transactions purge', () => this.pool.query("DELETE FROM shopforce_sink_transactions WHERE recorded_at < now() - interval '1 day'"));
  }
}
