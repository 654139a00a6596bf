/**
 * `shopforce drift`: do both sides still agree on an entity? Salesforce's records are read with Bulk
 * API 2.0 and sorted by key on this machine (to disk past sortBufferRecords), then the shop's rows are
 * read through cursors in the same key order, and the two streams are merge-joined on the key: memory
 * holds a sort buffer and one key of each side, never the whole entity. Each key is compared
 * (src/drift/compare.ts); what drifted goes to `onDrift` as it is found, in key order.
 */
import { randomUUID } from 'node:crypto';
import type { Connection } from 'jsforce';
import type { ShopforceConfig } from '../config/schema.ts';
import { enabledEntities } from '../entities/index.ts';
import { policyFor } from '../reconcile/policy.ts';
import type { Side } from '../reconcile/types.ts';
import { Registry } from 'prom-client';
import { createLogger } from '../observability/logger.ts';
import { oneOffCallPolicy } from '../salesforce/bulk-call.ts';
import type { BulkQueryOptions } from '../salesforce/bulk-query.ts';
import { compareKey, driftFlow, type Comparison, type DriftFlow } from './compare.ts';
import { differingValues, shortValue } from './drift-audit.ts';
import { compareKeys } from './key-order.ts';
import type { DriftRun } from './repair.ts';
import { readSalesforceSide } from './salesforce-side.ts';
import { openShopSide } from './shop-side.ts';
import type { SideRecord } from './side-images.ts';

export interface DriftCheckOptions {
  /** Sample keys kept per kind for the report. */
  samples: number;
  /** Salesforce records sorted in memory before a sorted run goes to a temporary file. */
  sortBufferRecords: number;
  bulk: BulkQueryOptions;
  tmpDir?: string;
  /** Each drifted key (missing, different, extra), in key order; awaited, so a slow consumer slows the check. */
  onDrift?: (flow: DriftFlow, c: Comparison, run: DriftRun) => Promise<void>;
  /** Stops the check between keys (it then throws). */
  signal?: AbortSignal;
}

export interface DriftSample {
  key: string;
  kind: Comparison['kind'];
  side: Side;
  fields: string[];
  /** Differing fields: each side's value. */
  values: Record<string, Record<Side, string>>;
  /** The records each side holds of the key (part:id). */
  records: Record<Side, string[]>;
  error?: string;
}

export interface DriftReport {
  entity: string;
  master: 'SHOP' | 'SALESFORCE' | 'BOTH';
  /** The side the other is held against: the master (the shop when both own the entity). */
  reference: Side;
  runId: string;
  startedAt: string;
  seconds: number;
  read: {
    /** Rows per shop table, records per Salesforce object. */
    shop: Record<string, number>;
    salesforce: Record<string, number>;
    /** Records neither side could key (no business key or external id). */
    unkeyed: number;
    sortRuns: number;
    salesforceSeconds: number;
    shopAndCompareSeconds: number;
    /** Salesforce API calls the check made (retries included). */
    salesforceApiCalls: number;
  };
  /** Entity keys each side holds, and what the comparison found. */
  counts: { shop: number; salesforce: number; same: number; missing: number; different: number; extra: number; kept: number; unreadable: number };
  /** missing + different + extra: what a repair sets right. */
  drift: number;
  /** Keys per differing field. */
  fields: Record<string, number>;
  samples: DriftSample[];
}

function sampleOf(c: Comparison): DriftSample {
  const ids = (side: Side) => c.images[side].slice(0, 5).map((i) => `${i.part}:${i.recordId}`);
  return {
    key: c.key, kind: c.kind, side: c.side, fields: c.fields, values: differingValues(c),
    records: { SHOP: ids('SHOP'), SALESFORCE: ids('SALESFORCE') }, ...(c.error ? { error: shortValue(c.error, 200) } : {}),
  };
}

/** Checks one enabled entity of the configuration; throws naming it when it is not enabled. */
export async function checkDrift(config: ShopforceConfig, entityName: string, conn: Connection, opts: DriftCheckOptions): Promise<DriftReport> {
  const entity = enabledEntities(config).find((e) => e.name === entityName);
  if (!entity) throw new Error(`drift: ${entityName} is not an enabled entity of this configuration (enabled: ${enabledEntities(config).map((e) => e.name).join(', ') || 'none'})`);
  const flow = driftFlow(entity, policyFor(entity, config.reconcile));
  const run: DriftRun = { runId: randomUUID().slice(0, 8), shopId: config.shopId, startedAt: Date.now() };
  // Salesforce first: the shop's snapshot is then the newer one, and a repair's shop write, stamped
  // with the run's start, loses to any change applied since (the shop sink's guard)
  const registry = new Registry();
  // the check's own call policy: its Bulk API calls are retried, cancelled on timeout and counted
  const policy = oneOffCallPolicy(conn, createLogger('drift'), registry);
  const sf = await readSalesforceSide(conn, policy, entity, { ...opts.bulk, shopId: config.shopId, sortBufferRecords: opts.sortBufferRecords, tmpDir: opts.tmpDir });
  const sfDone = Date.now();
  const shop = await openShopSide(entity, { databaseUrl: config.shop.databaseUrl, schema: config.shop.schema, shopId: config.shopId });
  const counts: DriftReport['counts'] = { shop: 0, salesforce: 0, same: 0, missing: 0, different: 0, extra: 0, kept: 0, unreadable: 0 };
  const fields: Record<string, number> = {};
  const samples: DriftSample[] = [];
  const sampled: Partial<Record<Comparison['kind'], number>> = {};
  const a = shop.records[Symbol.asyncIterator]();
  const b = sf.records[Symbol.asyncIterator]();
  try {
    let s = await a.next();
    let f = await b.next();
    while (!s.done || !f.done) {
      opts.signal?.throwIfAborted();
      const order = s.done ? 1 : f.done ? -1 : compareKeys(s.value.key, f.value.key);
      const shopRec: SideRecord | undefined = order <= 0 ? s.value as SideRecord : undefined;
      const sfRec: SideRecord | undefined = order >= 0 ? f.value as SideRecord : undefined;
      const c = compareKey(flow, (shopRec ?? sfRec)!.key, shopRec, sfRec);
      if (shopRec) s = await a.next();
      if (sfRec) f = await b.next();
      if (!c) continue;
      if (c.records.SHOP) counts.shop++;
      if (c.records.SALESFORCE) counts.salesforce++;
      counts[c.kind]++;
      for (const field of c.fields) fields[field] = (fields[field] ?? 0) + 1;
      if (c.kind !== 'same' && (sampled[c.kind] ?? 0) < opts.samples) {
        sampled[c.kind] = (sampled[c.kind] ?? 0) + 1;
        samples.push(sampleOf(c));
      }
      if (c.kind === 'missing' || c.kind === 'different' || c.kind === 'extra') await opts.onDrift?.(flow, c, run);
    }
  } finally {
    await shop.close();
    // a check that stopped early removes the sorted runs it left on disk
    await b.return?.(undefined);
  }
  const end = Date.now();
  policy.quota.close();
  const calls = await registry.getSingleMetric('shopforce_sf_sink_api_calls_total')?.get();
  return {
    entity: entity.name, master: flow.policy.master, reference: flow.reference, runId: run.runId,
    startedAt: new Date(run.startedAt).toISOString(), seconds: (end - run.startedAt) / 1000,
    read: {
      shop: shop.rows, salesforce: sf.rows, unkeyed: shop.unkeyed + sf.unkeyed, sortRuns: sf.sortRuns,
      salesforceSeconds: (sfDone - run.startedAt) / 1000, shopAndCompareSeconds: (end - sfDone) / 1000,
      salesforceApiCalls: (calls?.values ?? []).reduce((a, v) => a + v.value, 0),
    },
    counts, drift: counts.missing + counts.different + counts.extra, fields, samples,
  };
}
