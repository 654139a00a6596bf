import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Connection } from 'jsforce';
import { salesforceWrite, type SalesforceWriteSpec, type WriteContext } from '../../src/entities/commands.ts';
import type { Op, SalesforceWrite } from '../../src/entities/types.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createSalesforceSink, type CreateSinkOptions } from '../../src/salesforce/sink/index.ts';
import type { SalesforceSink, SinkConfig, WriteOutcome } from '../../src/salesforce/sink/index.ts';
import { jwtConnection, startTestSandbox, type TestSandbox } from '../sandbox/sandbox-helpers.ts';

export const SINK_DEFAULTS: SinkConfig = {
  lingerMs: 30, batchSize: 200, bulkThreshold: 2000, callsInFlight: 4, bulkJobsInFlight: 1, quotaReservePercent: 10, parentTimeoutMs: 300_000, maxRetries: 8, shopBatchSize: 500,
};

export interface SinkHarness {
  t: TestSandbox;
  conn: Connection;
  sink: SalesforceSink;
  late: WriteOutcome[];
  /** API calls by API since the last resetCounters (the emulator's counters). */
  calls(): Record<string, number>;
  cleanup(): Promise<void>;
}

/** An emulator, a jsforce JWT connection and a sink on it. */
export async function startSinkHarness(config: Partial<SinkConfig> = {}, extra: Partial<CreateSinkOptions> = {}): Promise<SinkHarness> {
  // own temp dir (not sbx-test-*): removed here, after the emulator stopped
  const dir = mkdtempSync(join(tmpdir(), 'sf-sink-test-'));
  const t = await startTestSandbox({}, dir);
  const conn = await jwtConnection(t.sb);
  const late: WriteOutcome[] = [];
  const sink = createSalesforceSink({
    conn,
    config: { ...SINK_DEFAULTS, ...config },
    logger: createLogger('sink-test', 'silent'),
    onLateOutcome: (o) => late.push(o),
    ...extra,
    tuning: { retryMinDelayMs: 5, retryMaxDelayMs: 50, ...extra.tuning },
  });
  t.sb.admin.resetCounters();
  return {
    t, conn, sink, late,
    calls: () => t.sb.admin.counters().byApi,
    async cleanup() {
      try {
        await sink.close();
        await t.cleanup();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

let seq = 0;
function ctx(key: string): WriteContext {
  seq += 1;
  return { shopId: 'shop1', entity: 'test', key, sourcePosition: `pos-${seq}`, transactionId: `tx-${seq}`, eventTime: Date.now() };
}

export function write(op: Op, spec: SalesforceWriteSpec): SalesforceWrite {
  return salesforceWrite(ctx(`shop1:${spec.externalId}`), op, 0, spec);
}

export function account(id: string, fields: Record<string, string | number | boolean | null> = {}): SalesforceWrite {
  return write('UPSERT', { sobject: 'Account', externalIdField: 'Shop_Customer_Id__c', externalId: id, fields: { Name: `Customer ${id}`, ...fields } });
}

export function opportunity(orderNumber: string, customerId: string, fields: Record<string, string | number | null> = {}): SalesforceWrite {
  return write('UPSERT', {
    sobject: 'Opportunity', externalIdField: 'Shop_Order_Id__c', externalId: orderNumber,
    fields: { Name: `Order ${orderNumber}`, StageName: 'Prospecting', CloseDate: '2026-11-27', Amount: '30.00', ...fields },
    decimalFields: ['Amount'],
    references: [{ field: 'AccountId', relationshipName: 'Account', sobject: 'Account', externalIdField: 'Shop_Customer_Id__c', externalId: customerId }],
    parentKeys: [`shop1:${customerId}`],
  });
}

export function lineItem(lineId: string, orderNumber: string, sku: string, quantity = 1): SalesforceWrite {
  return write('UPSERT', {
    sobject: 'OpportunityLineItem', externalIdField: 'Shop_Line_Id__c', externalId: lineId,
    fields: { Quantity: quantity, UnitPrice: '10.00', Description: `line ${lineId}` },
    decimalFields: ['UnitPrice'],
    references: [{ field: 'OpportunityId', relationshipName: 'Opportunity', sobject: 'Opportunity', externalIdField: 'Shop_Order_Id__c', externalId: orderNumber }],
    pricebookEntry: { field: 'PricebookEntryId', sku, currency: 'EUR', pricebook: 'standard' },
    parentKeys: [`shop1:${orderNumber}`, `shop1:${sku}`],
  });
}

export function product(sku: string): SalesforceWrite {
  return write('UPSERT', { sobject: 'Product2', externalIdField: 'Sku__c', externalId: sku, fields: { Name: `Product ${sku}`, ProductCode: sku, IsActive: true } });
}

/** The standard price book entry of a product, resolved by SKU (no external id on PricebookEntry). */
export function priceEntry(sku: string, price: string): SalesforceWrite {
  return write('UPSERT', {
    sobject: 'PricebookEntry', externalIdField: 'Id', externalId: `${sku}|standard|EUR`,
    fields: { UnitPrice: price, IsActive: true }, decimalFields: ['UnitPrice'],
    pricebookEntry: { field: 'Id', sku, currency: 'EUR', pricebook: 'standard' },
    parentKeys: [`shop1:${sku}`],
  });
}

export function statuses(outcomes: WriteOutcome[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const o of outcomes) out[o.status] = (out[o.status] ?? 0) + 1;
  return out;
}

/** Waits until `check` holds (polling), failing after `ms`. */
export async function eventually(check: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
