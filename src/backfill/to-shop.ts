/**
 * Salesforce -> shop: one Bulk API 2.0 query per Salesforce part of the entity (all started first, so
 * they read the org at about the same time), read a page at a time; each page's records are handed over
 * as changes of Salesforce ('read'), versioned by the time their query started, then checkpointed.
 * The reconciler decides them as any change and the shop sink writes them (docs/design.md, "Backfill").
 */
import { entityKey } from '../entities/keys.ts';
import { backfillPosition, type RoutedChange } from '../flows/routed-change.ts';
import { startQueryJob, queryPage } from '../salesforce/bulk-query.ts';
import type { QueryCursor } from './checkpoints.ts';
import type { BackfillRun, RunCounts } from './run.ts';
import { describeQueried, imageOf, type QueriedObject } from './salesforce-images.ts';

/** A SOQL datetime literal (to the second, rounded down so nothing at the boundary is missed). */
const soqlDateTime = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

export async function backfillToShop(run: BackfillRun): Promise<RunCounts> {
  const { entity, conn, policy, checkpoint: cp, config } = run;
  const counts: RunCounts = { handedOver: 0, deadLetters: 0, skipped: 0 };
  const parts = Object.entries(entity.flow.salesforce);
  const queried = new Map<string, QueriedObject>();
  for (const [object, spec] of parts) queried.set(object, await describeQueried(conn, policy, object, spec));

  cp.salesforce ??= {};
  let total = 0;
  for (const [object] of parts) {
    if (!cp.salesforce[object]) {
      const q = queried.get(object)!;
      const where = cp.since === null ? '' : ` WHERE SystemModstamp >= ${soqlDateTime(cp.since)}`;
      const job = await startQueryJob(conn, policy, `SELECT ${q.select.join(', ')} FROM ${object}${where}`);
      cp.salesforce[object] = { jobId: job.jobId, startedAt: job.startedAt, locator: '', done: false, records: job.records };
    }
    total += cp.salesforce[object]!.records;
  }
  cp.total = total;
  await run.checkpoints.write(run.handover.kafkaProducer, cp);
  run.progress.start(total, cp.done);

  for (const [object, spec] of parts) {
    const cursor: QueryCursor = cp.salesforce[object]!;
    const q = queried.get(object)!;
    while (!cursor.done) {
      if (run.signal.aborted) return counts;
      const page = await queryPage(conn, policy, object, cursor.jobId, cursor.locator, config.backfill.pageRecords);
      const changes: RoutedChange[] = [];
      for (const row of page.records) {
        const { image, parentKey } = imageOf(q, row);
        const shop = spec.shop?.(image);
        const keyParts = spec.key?.(image) ?? (parentKey === undefined ? undefined : [parentKey]);
        if ((shop !== undefined && shop !== config.shopId) || !keyParts) {
          if (!keyParts && shop === undefined) run.log.warn({ object, id: image.Id }, 'a record without its business key is not backfilled');
          counts.skipped += 1;
          continue;
        }
        const id = String(image.Id);
        changes.push({
          entity: entity.name, key: entityKey(config.shopId, ...keyParts), origin: 'SALESFORCE', part: object, op: 'UPSERT', image, recordId: id,
          sourcePosition: backfillPosition(cp.run, object, id), transactionId: `backfill:${cp.run}`, eventTime: cursor.startedAt,
          sourceVersion: null, changeOrigin: null, ours: false, backfill: 'read',
        });
      }
      await run.handover.send(changes);
      counts.handedOver += changes.length;
      cursor.locator = page.next ?? '';
      cursor.done = page.next === null;
      cp.done += page.records.length;
      await run.checkpoints.write(run.handover.kafkaProducer, cp);
      run.progress.update(cp.done, `${object}: page handed over`);
    }
  }
  return counts;
}
