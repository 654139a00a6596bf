/**
 * What the org masters besides its catalogue, made through the API as its users and its ERP would:
 * invoices of the paid orders, campaigns with their members, and stock corrections (an ERP's "adjust
 * by" on the stock levels the shop's stock made there). Each links to what the sync wrote by the
 * external ids we write (src/entities/keys.ts).
 */
import type { Connection } from 'jsforce';
import { externalIdOf } from '../entities/keys.ts';
import type { Row } from '../shop/seed/index.ts';
import { loadRows, queryRows } from './org-load.ts';

function upsert(conn: Connection, object: string, externalIdField: string, input: Record<string, unknown>[], operation: 'upsert' | 'insert' = 'upsert'): Promise<number> {
  return loadRows(conn, operation === 'upsert' ? { object, operation, externalIdField } : { object, operation, keyField: externalIdField }, input);
}

const INVOICE_STATUS: Record<string, string> = { draft: 'Draft', issued: 'Issued', paid: 'Paid', void: 'Void' };

/** Invoice__c of each invoice the ERP issued, under its order's Opportunity. */
export function loadInvoices(conn: Connection, shopId: string, invoices: Row[]): Promise<number> {
  return upsert(conn, 'Invoice__c', 'Invoice_Number__c', invoices.map((i) => ({
    Invoice_Number__c: i.invoice_number, 'Opportunity__r.Shop_Order_Id__c': externalIdOf(shopId, String(i.order_number)),
    Amount__c: i.total_amount, Tax_Amount__c: i.tax_amount, Paid_Amount__c: i.status === 'paid' ? i.total_amount : 0,
    Currency__c: i.currency, Status__c: INVOICE_STATUS[String(i.status)] ?? 'Issued',
    Issued_Date__c: String(i.issued_at).slice(0, 10), Due_Date__c: i.due_date,
  })));
}

/** Campaigns (one per segment) and their members (Contacts by the customer's external id); members already there are kept. */
export async function loadCampaigns(conn: Connection, shopId: string, segments: Row[], members: Row[]): Promise<{ campaigns: number; members: number }> {
  const campaigns = await upsert(conn, 'Campaign', 'Shop_Segment_Id__c', segments.map((s) => ({
    Shop_Segment_Id__c: s.segment_code, Name: s.name, Description: s.description, IsActive: s.active, Status: s.active ? 'In Progress' : 'Completed',
    StartDate: s.starts_on, EndDate: s.ends_on,
  })));
  const existing = new Set<string>();
  for await (const page of queryRows(conn, 'SELECT Shop_Member_Key__c FROM CampaignMember')) for (const r of page) existing.add(r.Shop_Member_Key__c!);
  const key = (m: Row) => `${String(m.segment_code)}|${String(m.customer_number)}`;
  // the campaign of a member is set when it is created (Salesforce does not move a member): new ones are inserted
  const added = await upsert(conn, 'CampaignMember', 'Shop_Member_Key__c', members.filter((m) => !existing.has(key(m))).map((m) => ({
    Shop_Member_Key__c: key(m), 'Campaign.Shop_Segment_Id__c': m.segment_code, 'Contact.Shop_Customer_Id__c': externalIdOf(shopId, String(m.customer_number)),
    Status: m.member_status, HasResponded: m.member_status === 'responded',
  })), 'insert');
  return { campaigns, members: added };
}

/** The org's "adjust by" on a stock level (the sandbox's admin API: POST /user-edit with increment). */
export type AdjustStock = (stockKey: string, delta: number) => Promise<void>;

/** An ERP's adjustments through the sandbox org's admin API: each a read and a write in one org transaction. */
export function sandboxStockAdjuster(adminUrl: string, token: string): AdjustStock {
  return async (stockKey, delta) => {
    const res = await fetch(`${adminUrl}/user-edit`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ object: 'Stock_Level__c', externalId: { field: 'Stock_Key__c', value: stockKey }, increment: { Quantity__c: delta } }),
    });
    if (!res.ok) throw new Error(`stock correction of ${stockKey} by ${delta}: the org answered ${res.status} ${await res.text()}`);
  };
}

/** Corrections of about a third of the stock levels: restocks and a few write-offs, deterministic. */
export async function correctStock(adjust: AdjustStock, shopId: string, levels: Row[]): Promise<Array<{ key: string; delta: number }>> {
  const done: Array<{ key: string; delta: number }> = [];
  for (const [i, level] of levels.entries()) {
    if (i % 3 !== 0) continue;
    // a write-off only where there is stock to write off (a level below zero would be an alert, not a sample)
    const delta = i % 2 === 0 || Number(level.quantity) < 10 ? 5 + (i % 16) : -(1 + (i % 3));
    const key = externalIdOf(shopId, String(level.sku), String(level.warehouse_code));
    await adjust(key, delta);
    done.push({ key, delta });
  }
  return done;
}
