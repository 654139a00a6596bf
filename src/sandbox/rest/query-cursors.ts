import { randomBytes } from 'node:crypto';
import { SfError } from '../store/errors.ts';

interface Cursor { records: unknown[]; totalSize: number; expiresAt: number }

const TTL_MS = 15 * 60_000;
const MAX_CURSORS = 500;

/** Server-side query cursors behind nextRecordsUrl (`/query/<cursor>-<offset>`). */
export class QueryCursors {
  private readonly cursors = new Map<string, Cursor>();

  /** The first page; the rest stays behind a locator. */
  open(version: string, records: unknown[], totalSize: number, batchSize: number): { done: boolean; nextRecordsUrl?: string; records: unknown[] } {
    if (records.length <= batchSize) return { done: true, records };
    this.prune();
    const id = `01g${randomBytes(9).toString('base64url').replace(/[-_]/g, 'A')}`;
    this.cursors.set(id, { records, totalSize, expiresAt: Date.now() + TTL_MS });
    return { done: false, nextRecordsUrl: `/services/data/v${version}/query/${id}-${batchSize}`, records: records.slice(0, batchSize) };
  }

  next(version: string, locator: string, batchSize: number): { totalSize: number; done: boolean; nextRecordsUrl?: string; records: unknown[] } {
    const m = /^(.+)-(\d+)$/.exec(locator);
    const cursor = m ? this.cursors.get(m[1]!) : undefined;
    if (!m || !cursor || cursor.expiresAt < Date.now()) {
      throw new SfError('INVALID_QUERY_LOCATOR', 'invalid query locator', [], 400);
    }
    const offset = Number(m[2]);
    const end = offset + batchSize;
    const page = cursor.records.slice(offset, end);
    cursor.expiresAt = Date.now() + TTL_MS;
    if (end >= cursor.records.length) {
      this.cursors.delete(m[1]!);
      return { totalSize: cursor.totalSize, done: true, records: page };
    }
    return { totalSize: cursor.totalSize, done: false, nextRecordsUrl: `/services/data/v${version}/query/${m[1]}-${end}`, records: page };
  }

  private prune(): void {
    const now = Date.now();
    for (const [k, c] of this.cursors) if (c.expiresAt < now) this.cursors.delete(k);
    while (this.cursors.size >= MAX_CURSORS) this.cursors.delete(this.cursors.keys().next().value!);
  }
}
