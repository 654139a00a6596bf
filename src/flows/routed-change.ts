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
  /** Unique per change at its source: "pg:<lsn>:<table>:<id>" or the Salesforce replay id. */
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
   * Sent by a drift repair (src/drift/repair.ts): the side's images as they are now, which the change
   * events did not bring; a delta-merged entity then writes the merged value to every side that differs.
   */
  repair?: boolean;
}
