import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { EventBody, EventKind, NewEvent, StoredEvent } from './stored-event.ts';

/** Which events a reader wants: one topic, or every change event (/data/ChangeEvents). */
export type EventFilter = { topic: string } | { kind: EventKind };

export type ReplayCheck = 'ok' | 'expired' | 'unknown';

export interface EventLogOptions {
  dataDir: string;
  retentionMs: number;
  /** Replay ids advance by a random step in [1, maxStep] so they are not contiguous. */
  maxStep?: number;
  now?: () => number;
}

interface Row {
  replay_id: number;
  kind: EventKind;
  topic: string;
  entity: string;
  created_at: number;
  body: string;
}

/**
 * The org's event bus: an append-only log of events persisted in SQLite under dataDir, with
 * opaque increasing replay ids and a retention window. A restart keeps it.
 */
export class EventLog {
  readonly file: string;
  private readonly db: Database.Database;
  private readonly retentionMs: number;
  private readonly maxStep: number;
  private readonly now: () => number;
  private lastReplayId: number;
  private prunedThrough: number;
  private readonly stmts: ReturnType<EventLog['prepare']>;

  constructor(options: EventLogOptions) {
    fs.mkdirSync(options.dataDir, { recursive: true });
    this.file = path.join(options.dataDir, 'cdc-events.sqlite');
    this.retentionMs = options.retentionMs;
    this.maxStep = options.maxStep ?? 5;
    this.now = options.now ?? Date.now;
    this.db = new Database(this.file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS events (
        replay_id INTEGER PRIMARY KEY, kind TEXT NOT NULL, topic TEXT NOT NULL, entity TEXT NOT NULL,
        created_at INTEGER NOT NULL, body TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS events_topic ON events (topic, replay_id);
      CREATE INDEX IF NOT EXISTS events_kind ON events (kind, replay_id);
      CREATE INDEX IF NOT EXISTS events_created ON events (created_at);
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);`);
    this.stmts = this.prepare();
    this.lastReplayId = this.readMeta('last_replay_id');
    this.prunedThrough = this.readMeta('pruned_through');
    this.prune();
  }

  private prepare() {
    const cols = 'replay_id, kind, topic, entity, created_at, body';
    return {
      insert: this.db.prepare('INSERT INTO events (replay_id, kind, topic, entity, created_at, body) VALUES (?, ?, ?, ?, ?, ?)'),
      setMeta: this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      getMeta: this.db.prepare('SELECT value FROM meta WHERE key = ?'),
      byTopic: this.db.prepare(`SELECT ${cols} FROM events WHERE topic = ? AND replay_id > ? AND created_at >= ? ORDER BY replay_id LIMIT ?`),
      byKind: this.db.prepare(`SELECT ${cols} FROM events WHERE kind = ? AND replay_id > ? AND created_at >= ? ORDER BY replay_id LIMIT ?`),
      maxExpired: this.db.prepare('SELECT MAX(replay_id) AS id FROM events WHERE created_at < ?'),
      deleteExpired: this.db.prepare('DELETE FROM events WHERE replay_id <= ?'),
      count: this.db.prepare('SELECT COUNT(*) AS n FROM events'),
    };
  }

  private readMeta(key: string): number {
    const row = this.stmts.getMeta.get(key) as { value: number } | undefined;
    return row?.value ?? 0;
  }

  /** Appends events in order, in one SQLite transaction; returns them with their replay ids. */
  append(events: NewEvent[]): StoredEvent[] {
    if (events.length === 0) return [];
    const createdAt = this.now();
    const stored: StoredEvent[] = [];
    let replayId = this.lastReplayId;
    for (const event of events) {
      replayId += 1 + Math.floor(Math.random() * this.maxStep);
      stored.push({ ...event, replayId, createdAt });
    }
    this.db.transaction(() => {
      for (const e of stored) {
        this.stmts.insert.run(e.replayId, e.kind, e.topic, e.entity, e.createdAt, JSON.stringify(e.body));
      }
      this.stmts.setMeta.run('last_replay_id', replayId);
    })();
    this.lastReplayId = replayId;
    return stored;
  }

  /** Up to `limit` retained events after `afterReplayId` matching the filter, oldest first. */
  readAfter(filter: EventFilter, afterReplayId: number, limit: number): StoredEvent[] {
    const cutoff = this.now() - this.retentionMs;
    const rows = ('topic' in filter
      ? this.stmts.byTopic.all(filter.topic, afterReplayId, cutoff, limit)
      : this.stmts.byKind.all(filter.kind, afterReplayId, cutoff, limit)) as Row[];
    return rows.map((r) => ({
      replayId: r.replay_id, kind: r.kind, topic: r.topic, entity: r.entity, createdAt: r.created_at,
      body: JSON.parse(r.body) as EventBody,
    }));
  }

  /** The newest replay id ever assigned (0 when the log never held an event). */
  latestReplayId(): number {
    return this.lastReplayId;
  }

  /** The replay id to start after for "all retained events". */
  earliestCursor(): number {
    this.prune();
    return this.prunedThrough;
  }

  /**
   * Whether a subscriber may resume after `replayId`: 'expired' when the event left the
   * retention window, 'unknown' when the id was never issued by this org.
   */
  checkReplayId(replayId: number): ReplayCheck {
    this.prune();
    if (!Number.isSafeInteger(replayId) || replayId <= 0 || replayId > this.lastReplayId) return 'unknown';
    if (replayId <= this.prunedThrough) return 'expired';
    return 'ok';
  }

  /** Drops events older than the retention window; returns how many were dropped. */
  prune(): number {
    const cutoff = this.now() - this.retentionMs;
    const row = this.stmts.maxExpired.get(cutoff) as { id: number | null };
    if (row.id === null) return 0;
    const expiredThrough = row.id;
    let removed = 0;
    this.db.transaction(() => {
      removed = this.stmts.deleteExpired.run(expiredThrough).changes;
      this.stmts.setMeta.run('pruned_through', expiredThrough);
    })();
    this.prunedThrough = Math.max(this.prunedThrough, expiredThrough);
    return removed;
  }

  /**
   * Every event issued so far leaves the retention window at once (as if a subscriber came back after
   * the window): a resume from any replay id issued until now is then 'expired'. Returns how many
   * were dropped.
   */
  expireAll(): number {
    const through = this.lastReplayId;
    if (through <= this.prunedThrough) return 0;
    let removed = 0;
    this.db.transaction(() => {
      removed = this.stmts.deleteExpired.run(through).changes;
      this.stmts.setMeta.run('pruned_through', through);
    })();
    this.prunedThrough = through;
    return removed;
  }

  size(): number {
    return (this.stmts.count.get() as { n: number }).n;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
