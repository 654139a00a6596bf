import type { Op, Origin } from '../entities/types.ts';

/**
 * A raw change of one part of an entity (a shop row or a Salesforce record image), re-keyed by
 * the entity key so every change of one entity, from either side, is in order on one partition.
 * JSON on sync.in.<entity>.
 */
export interface RoutedChange {
  entity: string;
  key: string;
  origin: Origin;
  /** Shop table or Salesforce object, e.g. "order_lines", "Contact". */
  part: string;
  op: Op;
  /** Row / full record image after the change; the last image for a DELETE when known. */
  image: Record<string, unknown> | null;
  /** Shop row id or Salesforce record id: identifies an image among a many-part (lines). */
  recordId: string;
  /** Unique per change at its source: "pg:<lsn>:<table>:<id>" or "sf:<object>:<replay id>" (salesforcePosition). */
  sourcePosition: string;
  transactionId: string;
  /** Source commit time (epoch ms). */
  eventTime: number;
  /** Shop row version, or Salesforce commit number. */
  sourceVersion: number | null;
  /** Salesforce changeOrigin (who wrote it: our integration shows `client=<callOptionsClient>`). */
  changeOrigin: string | null;
  /**
   * Our own write coming back: a Salesforce change whose changeOrigin names our client, or a shop row
   * change made in a transaction our shop sink recorded. null when the origin cannot be told.
   */
  ours: boolean | null;
  /**
   * Set by `shopforce backfill` (docs/design.md, "Backfill"): 'read' for a record it read from its side,
   * 'written' for one it also wrote to the other side (Bulk API) before handing it over. Its source
   * position names the backfill run; its version (shop row version, or the time Salesforce's query
   * started) orders it against the live changes of the same record.
   */
  backfill?: 'read' | 'written';
  /**
   * Sent by a drift repair (src/drift/repair.ts): the side's images as they are now, which the change
   * events did not bring; a delta-merged entity then writes the merged value to every side that differs.
   */
  repair?: boolean;
}

/** The source position of a backfilled record: the run, then the part and the record (the same on a resumed run). */
export function backfillPosition(run: string, part: string, recordId: string): string {
  return `backfill:${run}:${part}:${recordId}`;
}

/** The backfill run a source position belongs to, or null for a live change's. */
export function backfillRunOf(position: string): string | null {
  if (!position.startsWith('backfill:')) return null;
  return position.slice('backfill:'.length).split(':')[0] ?? null;
}

/**
 * The position of a Salesforce change event: its object's channel and its replay id (or the
 * source's `reread:` position). A replay id is a position in one channel's event stream, so two
 * channels of one entity (Product2 and PricebookEntry) must not share a position by chance.
 */
export function salesforcePosition(object: string, position: string): string {
  return `sf:${object}:${position}`;
}

/** A Salesforce record read back by SOQL (after an expired replay id or a decoding error), not a change event: it says nothing of who changed it. */
export function isRereadPosition(position: string): boolean {
  return /^sf:[^:]+:reread:/.test(position);
}
