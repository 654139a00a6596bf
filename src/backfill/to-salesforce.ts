/**
 * Shop -> Salesforce: the entity's shop rows a chunk at a time; each record's writes are what the
 * reconciler would plan for a new record of the shop (decide() on an empty state, through the entity's
 * mapping), upserted by external id with one Bulk API 2.0 job per Salesforce object, parents first.
 * Rows Salesforce refused go to the dead-letter topic with its error, as write commands the Salesforce
 * sink can replay; the records written in full are then handed over ('written') and the chunk is
 * checkpointed (docs/design.md, "Backfill").
 */
import { entityKey } from '../entities/keys.ts';
import type { FlowSpec, Parts } from '../entities/parts.ts';
import type { CanonicalChange, SalesforceWrite } from '../entities/types.ts';
import { backfillPosition, type RoutedChange } from '../flows/routed-change.ts';
import { SUBJECTS } from '../flows/topic-names.ts';
import { commandsFor } from '../reconcile/commands.ts';
import { decide } from '../reconcile/decide.ts';
import { policyFor } from '../reconcile/policy.ts';
import { classify } from '../salesforce/sink/errors.ts';
import { parentFirstLevels } from '../salesforce/sink/order.ts';
import { pricebookKey, PricebookResolver } from '../salesforce/sink/pricebook.ts';
import { upsertBody, withoutFields, type RecordBody } from '../salesforce/sink/records.ts';
import { DEFAULT_TUNING, type SalesforceErrorInfo } from '../salesforce/sink/types.ts';
import { bulkIngestJob, type IngestPace } from '../salesforce/bulk-ingest.ts';
import type { DeadLetter } from './handover.ts';
import type { BackfillRun, RunCounts } from './run.ts';
import { ShopChunks, type ShopImage } from './shop-chunks.ts';
import type pg from 'pg';

const PACE: IngestPace = { minPollMs: 1_000, maxPollMs: 30_000, timeoutMs: 3_600_000 };
/** Rows refused with a transient error (a locked row, left unprocessed) go again in a job of their own, this often at most. */
const TRANSIENT_ROUNDS = 3;

/** One record of the chunk: its shop images and the writes that make it in Salesforce. */
interface Planned { key: string; images: ShopImage[]; commands: SalesforceWrite[] }

export async function backfillToSalesforce(run: BackfillRun, pool: pg.Pool): Promise<RunCounts> {
  const { entity, config, checkpoint: cp } = run;
  const counts: RunCounts = { handedOver: 0, deadLetters: 0, skipped: 0 };
  const chunks = new ShopChunks(pool, config.shop.schema, config.shopId, entity.flow, (parts) => entityKey(config.shopId, ...parts), cp.since === null ? null : new Date(cp.since));
  cp.shop ??= { afterId: '' };
  cp.total = cp.done + await chunks.count(cp.shop.afterId || null);
  run.progress.start(cp.total, cp.done);
  // the writes of a record new on the shop, at once (a stock window would hold them)
  const policy = { ...policyFor(entity, config.reconcile), windowMs: 0 };
  const pricebook = new PricebookResolver(run.conn, run.policy, 100_000, config.entities.product.externalIds.Product2 ?? 'Sku__c', undefined);

  for (;;) {
    if (run.signal.aborted) return counts;
    const chunk = await chunks.next(cp.shop.afterId || null, config.backfill.chunkRecords);
    if (chunk.rows === 0) break;
    const readAt = Date.now();
    run.log.debug({ rows: chunk.rows, records: chunk.byKey.size }, 'chunk read');
    const letters: DeadLetter[] = [];
    const planned: Planned[] = [];
    for (const [key, images] of chunk.byKey) {
      const main = images[0]!;
      const position = backfillPosition(cp.run, main.part, String(main.row.id));
      try {
        const input = entity.flow.shopInput(assemble(entity.flow, images));
        if (!input) { counts.skipped += 1; continue; }
        const record = entity.mapping.fromShopRow(input, null);
        const change: CanonicalChange = {
          shopId: config.shopId, entity: entity.name, key, origin: 'SHOP', sourcePosition: position, transactionId: `backfill:${cp.run}`,
          eventTime: readAt, op: 'UPSERT', sourceRecordId: String(main.row.id), sourceVersion: versionOf(main.row), changeOrigin: null,
          record, knownFields: entity.mapping.knownFromShop(input, null),
        };
        const { writes } = decide(null, key, change, policy);
        const commands = commandsFor(entity.mapping, change, writes.filter((w) => w.target === 'SALESFORCE')).salesforce;
        planned.push({ key, images, commands });
      } catch (err) {
        // the reconciler would refuse this row too: it goes to the dead-letter topic as the change it is
        letters.push({ key, value: Buffer.from(JSON.stringify(handedOver(run, key, main, readAt, undefined))), sourceTopic: run.names.routed(entity.name), reason: (err as Error).message, errorClass: 'mapping' });
      }
    }
    run.log.debug({ records: planned.length, ms: Date.now() - readAt }, 'chunk planned');
    // within a chunk: the share of its rows Salesforce has processed (the hand-over is the last tenth)
    const failures = await write(run, planned.flatMap((p) => p.commands), pricebook,
      (sobject, share) => run.progress.update(cp.done + Math.round(chunk.rows * share * 0.9), `${sobject} upserted`));
    const changes: RoutedChange[] = [];
    for (const p of planned) {
      const refused = p.commands.filter((c) => failures.has(c.commandId));
      for (const c of refused) {
        const error = failures.get(c.commandId)!;
        letters.push({ key: c.key, value: await run.registry.encode(SUBJECTS.salesforceCommands, c), sourceTopic: run.names.salesforceCommands, reason: `${error.errorCode}: ${error.message}${error.fields.length ? ` [${error.fields.join(', ')}]` : ''}`, errorClass: 'salesforce-refused' });
      }
      // a record Salesforce holds in part is not handed over: its next change writes it whole
      if (refused.length === 0) for (const image of p.images) changes.push(handedOver(run, p.key, image, readAt, 'written'));
    }
    run.log.debug({ ms: Date.now() - readAt }, 'chunk written');
    await run.handover.deadLetters(letters);
    await run.handover.send(changes);
    run.log.debug({ changes: changes.length, ms: Date.now() - readAt }, 'chunk handed over');
    counts.deadLetters += letters.length;
    counts.handedOver += changes.length;
    cp.shop.afterId = chunk.lastId ?? cp.shop.afterId;
    cp.done += chunk.rows;
    await run.checkpoints.write(run.handover.kafkaProducer, cp);
    run.progress.update(cp.done, `${letters.length ? `${counts.deadLetters} dead letters; ` : ''}handed over`);
  }
  return counts;
}

/** The kept-images shape of a record's shop rows: single parts by name, many-parts by row id (all known: none is none). */
function assemble(flow: FlowSpec, images: ShopImage[]): Parts {
  const parts: Parts = {};
  for (const spec of Object.values(flow.shop)) if (spec.many) parts[spec.as] = {};
  for (const { spec, row } of images) {
    if (spec.many) (parts[spec.as] as Record<string, Record<string, unknown>>)[String(row.id)] = row;
    else parts[spec.as] = row;
  }
  return parts;
}

const versionOf = (row: Record<string, unknown>) => (row.version === undefined || row.version === null ? null : Number(row.version));

function handedOver(run: BackfillRun, key: string, image: ShopImage, readAt: number, backfill: RoutedChange['backfill']): RoutedChange {
  const id = String(image.row.id);
  return {
    entity: run.entity.name, key, origin: 'SHOP', part: image.part, op: 'UPSERT', image: image.row, recordId: id,
    sourcePosition: backfillPosition(run.checkpoint.run, image.part, id), transactionId: `backfill:${run.checkpoint.run}`, eventTime: readAt,
    sourceVersion: versionOf(image.row), changeOrigin: null, ours: false, ...(backfill ? { backfill } : {}),
  };
}

/**
 * Upserts the commands, one Bulk API job per object and level (parents first); returns the refused
 * ones by command id with Salesforce's error. A row refused for a create-only lookup on a record that
 * exists goes again without it; rows refused with a transient error go again in a job of their own.
 */
async function write(run: BackfillRun, commands: SalesforceWrite[], pricebook: PricebookResolver, onShare: (sobject: string, share: number) => void): Promise<Map<string, SalesforceErrorInfo>> {
  const failures = new Map<string, SalesforceErrorInfo>();
  let done = 0;
  for (const level of parentFirstLevels(commands, (c) => c)) {
    const entryIds = await pricebook.resolve(level.filter((c) => c.pricebookEntry && c.pricebookEntry.field !== 'Id').map((c) => c.pricebookEntry!));
    const groups = new Map<string, Array<{ command: SalesforceWrite; body: RecordBody }>>();
    for (const command of level) {
      const pbe = command.pricebookEntry;
      if (pbe?.field === 'Id') {
        failures.set(command.commandId, { errorCode: 'NOT_SUPPORTED', message: `${command.sobject} by its product's price book entry is written by the Salesforce sink, not by a backfill`, fields: [] });
        continue;
      }
      const entryId = pbe ? entryIds.get(pricebookKey(pbe)) : undefined;
      if (pbe && !entryId) {
        failures.set(command.commandId, { errorCode: 'PRICEBOOK_ENTRY_NOT_FOUND', message: `no ${pbe.pricebook} price book entry for product ${pbe.sku}`, fields: [pbe.field] });
        continue;
      }
      const group = `${command.sobject}\u0001${command.externalIdField}`;
      let list = groups.get(group);
      if (!list) groups.set(group, (list = []));
      list.push({ command, body: upsertBody(command, entryId) });
    }
    for (const rows of groups.values()) {
      const { sobject, externalIdField } = rows[0]!.command;
      let todo = rows;
      for (let round = 0; todo.length > 0; round++) {
        const base = done;
        const result = await bulkIngestJob(run.conn, run.policy, { object: sobject, operation: 'upsert', externalIdField }, todo.map((r) => r.body), PACE,
          (processed) => onShare(sobject, (base + processed) / Math.max(1, commands.length)));
        const again: typeof todo = [];
        for (const row of todo) {
          const error = result.failed.get(row.command.externalId);
          if (!error) continue;
          const createOnly = DEFAULT_TUNING.createOnlyFields[sobject] ?? [];
          const stripped = error.errorCode === 'INVALID_FIELD_FOR_INSERT_UPDATE' && round === 0
            ? withoutFields(row.command, row.body, createOnly.filter((f) => error.fields.includes(f) || error.message.includes(f))) : undefined;
          if (stripped) again.push({ ...row, body: stripped });
          else if (classify(error) === 'transient' && round < TRANSIENT_ROUNDS) again.push(row);
          else failures.set(row.command.commandId, error);
        }
        done += todo.length - again.length;
        todo = again;
      }
    }
  }
  return failures;
}
