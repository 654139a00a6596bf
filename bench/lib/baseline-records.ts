/**
 * The Salesforce records the side-by-side baselines (naive-sink.ts, polling-sync.ts) write for a shop row:
 * what shopforce's customer and order entities write for the same row, the fields a comparison needs
 * (external ids "<shop>|<business key>", names, the order's stage and amount, the lookups by external id).
 * These are benchmark baselines, not product code.
 */

export interface BaselineWrite {
  sobject: 'Account' | 'Contact' | 'Opportunity';
  externalIdField: string;
  record: Record<string, unknown>;
}

export type BaselineTable = 'customers' | 'orders';
export const BASELINE_TABLES: BaselineTable[] = ['customers', 'orders'];

export interface BaselineMappingOptions {
  /** shop status -> Opportunity.StageName (the pipeline config's entities.order.stageMap) */
  stageMap: Record<string, string>;
  defaultStage: string;
}

const text = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/** 'YYYY-MM-DD' of a timestamp column read from Debezium (ISO string or epoch ms) or from pg (Date). */
function dateOf(v: unknown): string {
  const d = v instanceof Date ? v : typeof v === 'number' ? new Date(v) : typeof v === 'string' ? new Date(v) : new Date();
  return (Number.isNaN(d.getTime()) ? new Date() : d).toISOString().slice(0, 10);
}

/** The upserts for one row of `table` of shop `shopId`, parents first (Account before Contact). */
export function baselineWrites(table: BaselineTable, row: Record<string, unknown>, shopId: string, opts: BaselineMappingOptions): BaselineWrite[] {
  if (table === 'customers') {
    const id = `${shopId}|${text(row.customer_number)}`;
    const person = [text(row.first_name), text(row.last_name)].filter(Boolean).join(' ');
    return [
      { sobject: 'Account', externalIdField: 'Shop_Customer_Id__c', record: { Shop_Customer_Id__c: id, Name: text(row.company_name) ?? person, Shop_Id__c: shopId } },
      {
        sobject: 'Contact', externalIdField: 'Shop_Customer_Id__c',
        record: {
          Shop_Customer_Id__c: id, FirstName: text(row.first_name), LastName: text(row.last_name), Email: text(row.email)?.toLowerCase() ?? null,
          Phone: text(row.phone), Shop_Id__c: shopId, Account: { Shop_Customer_Id__c: id },
        },
      },
    ];
  }
  const status = text(row.status) ?? 'pending';
  return [{
    sobject: 'Opportunity', externalIdField: 'Shop_Order_Id__c',
    record: {
      Shop_Order_Id__c: `${shopId}|${text(row.order_number)}`, Name: `Order ${text(row.order_number)}`,
      StageName: opts.stageMap[status] ?? opts.defaultStage, CloseDate: dateOf(row.placed_at), Amount: Number(row.total_amount ?? 0),
      Account: { Shop_Customer_Id__c: `${shopId}|${text(row.customer_number)}` },
    },
  }];
}
