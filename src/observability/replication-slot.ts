import type pg from 'pg';
import { Gauge, type Registry } from 'prom-client';

/** PostgreSQL's wal_status of a slot: how safe the WAL it still needs is (PostgreSQL 13+). */
export const WAL_STATUSES = ['reserved', 'extended', 'unreserved', 'lost'] as const;

export interface SlotReading {
  slot: string;
  /** WAL the slot's consumer (Debezium) has not confirmed: pg_current_wal_lsn() - confirmed_flush_lsn. */
  lagBytes: number;
  walStatus: string | null;
  /** WAL that may still be written before the slot passes max_slot_wal_keep_size (null: no cap). */
  safeWalBytes: number | null;
}

/** The logical replication slots of the shop database (Debezium's), as pg_replication_slots tells them. */
export async function readSlots(db: pg.Pool | pg.Client): Promise<SlotReading[]> {
  const { rows } = await db.query<{ slot_name: string; lag: string | null; wal_status: string | null; safe_wal_size: string | null }>(`
    SELECT slot_name, pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint::text AS lag, wal_status, safe_wal_size::text
      FROM pg_replication_slots WHERE slot_type = 'logical' AND database = current_database() ORDER BY slot_name`);
  return rows.map((r) => ({
    slot: r.slot_name, lagBytes: Number(r.lag ?? 0), walStatus: r.wal_status, safeWalBytes: r.safe_wal_size === null ? null : Number(r.safe_wal_size),
  }));
}

/**
 * Gauges of the shop database's replication slots, read at each scrape: a slot whose consumer stops
 * (Kafka Connect down, the connector failed) holds WAL back until PostgreSQL's disk fills, or, with
 * max_slot_wal_keep_size, until the slot is invalidated (wal_status 'lost': Debezium must snapshot again).
 */
export function replicationSlotMetrics(registry: Registry, db: pg.Pool): void {
  // one query per scrape, shared by the gauges
  let reading: { at: number; slots: Promise<SlotReading[]> } | undefined;
  const slots = () => {
    if (!reading || Date.now() - reading.at > 1_000) reading = { at: Date.now(), slots: readSlots(db).catch(() => []) };
    return reading.slots;
  };
  const registers = [registry];
  new Gauge({
    name: 'shopforce_replication_slot_lag_bytes', help: 'WAL bytes the replication slot\'s consumer (Debezium) has not confirmed yet: pg_current_wal_lsn() - confirmed_flush_lsn.',
    labelNames: ['slot'], registers,
    async collect() {
      this.reset();
      for (const s of await slots()) this.set({ slot: s.slot }, s.lagBytes);
    },
  });
  new Gauge({
    name: 'shopforce_replication_slot_wal_status', help: 'The slot\'s wal_status (1 for the current one): reserved, extended, unreserved (past max_slot_wal_keep_size: about to be lost), lost.',
    labelNames: ['slot', 'status'], registers,
    async collect() {
      this.reset();
      for (const s of await slots()) for (const status of WAL_STATUSES) this.set({ slot: s.slot, status }, s.walStatus === status ? 1 : 0);
    },
  });
  new Gauge({
    name: 'shopforce_replication_slot_safe_wal_bytes', help: 'WAL bytes that may still be written before the slot passes max_slot_wal_keep_size (absent without a cap).',
    labelNames: ['slot'], registers,
    async collect() {
      this.reset();
      for (const s of await slots()) if (s.safeWalBytes !== null) this.set({ slot: s.slot }, s.safeWalBytes);
    },
  });
}
