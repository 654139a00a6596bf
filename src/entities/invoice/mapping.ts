/**
 * invoice: Salesforce Invoice__c (external id Invoice_Number__c) -> shop invoices, owned by Salesforce.
 * The invoice's order is its Opportunity's external id (Opportunity__c -> Shop_Order_Id__c, read by
 * the router and added to the image); status and paid amount follow, a voided invoice is voided in
 * the shop. The shop keeps net, tax and total with total = net + tax, so the three go together.
 */
import { salesforceWrite, shopWrite } from '../commands.ts';
import { known, wants, type EntityMapping } from '../entity.ts';
import { entityKey, externalIdOf, requiredKeyParts } from '../keys.ts';
import { parentFieldName, type ParentKeyLookup } from '../parts.ts';
import { fieldsMappedFrom, mergeMappings, readSalesforceImage, readShopRow, salesforceFields, shopColumns, type FieldMapping } from '../mapping.ts';
import { normalizeMoney, subtractMoney } from '../money.ts';
import type { FieldValue } from '../types.ts';
import { requiredStr } from '../values.ts';
import type { InvoiceConfig } from './config.ts';
import { emptyInvoice, INVOICE_KINDS as K, type Invoice } from './record.ts';
import { clonePlain } from '../clone.ts';

export const INVOICE_FIELDS: FieldMapping[] = [
  { canonical: 'orderNumber', shop: 'order_number', transform: 'none' },
  { canonical: 'amount', shop: 'total_amount', salesforce: 'Invoice__c.Amount__c', transform: 'none' },
  { canonical: 'taxAmount', shop: 'tax_amount', salesforce: 'Invoice__c.Tax_Amount__c', transform: 'none' },
  { canonical: 'paidAmount', shop: 'paid_amount', salesforce: 'Invoice__c.Paid_Amount__c', transform: 'none' },
  { canonical: 'currency', shop: 'currency', salesforce: 'Invoice__c.Currency__c', transform: 'uppercase' },
  {
    canonical: 'status', shop: 'status', salesforce: 'Invoice__c.Status__c', transform: 'none',
    valueMap: { draft: 'Draft', issued: 'Issued', paid: 'Paid', overdue: 'Overdue', void: 'Void' },
  },
  { canonical: 'issueDate', shop: 'issued_at', salesforce: 'Invoice__c.Issued_Date__c', transform: 'none' },
  { canonical: 'dueDate', shop: 'due_date', salesforce: 'Invoice__c.Due_Date__c', transform: 'none' },
  { canonical: 'documentUrl', salesforce: 'Invoice__c.Pdf_Url__c', transform: 'none' },
  { canonical: 'updatedAt', shop: 'updated_at', transform: 'none' },
];

/** How the router finds an Invoice__c's shop order: its Opportunity's order external id. */
export function invoiceOrderLookup(orderExternalId: string): ParentKeyLookup {
  return { viaField: 'Opportunity__c', object: 'Opportunity', keyField: orderExternalId };
}

/** The image field the router adds to an Invoice__c image: its Opportunity's order external id. */
export function orderOfInvoiceField(orderExternalId: string): string {
  return parentFieldName(invoiceOrderLookup(orderExternalId));
}

export function createInvoiceMapping(cfg: InvoiceConfig, shopId: string): EntityMapping<Invoice, Record<string, unknown>, Record<string, unknown>> {
  const mappings = mergeMappings(INVOICE_FIELDS, cfg.fields);
  const [obj] = cfg.salesforceObjects;
  const ext = cfg.externalIds[obj];
  const [table] = cfg.shopTables;
  const orderField = orderOfInvoiceField(cfg.orderExternalId);

  return {
    name: 'invoice',
    key: (inv) => entityKey(shopId, inv.invoiceNumber),

    fromShopRow(row, previous) {
      const number = requiredStr(`${table}.invoice_number`, row.invoice_number);
      const inv = previous ? clonePlain(previous) : emptyInvoice(number);
      readShopRow(K, mappings, row, inv, table);
      inv.orderNumber ??= '';
      return inv;
    },

    fromSalesforce(image, previous) {
      const number = requiredStr(`${obj}.${ext}`, image[ext]);
      const inv = previous ? clonePlain(previous) : emptyInvoice(number);
      inv.invoiceNumber = number;
      inv.orderNumber = image[orderField] === undefined || image[orderField] === null
        ? requiredStr(`${obj}.Opportunity__c -> Opportunity.${cfg.orderExternalId} (the invoice's shop order)`, previous?.orderNumber)
        : requiredKeyParts(`${obj}.Opportunity__c -> Opportunity.${cfg.orderExternalId} (the invoice's shop order)`, image[orderField], 1)[0]!;
      readSalesforceImage(K, mappings, obj, image, inv);
      return inv;
    },

    knownFromShop: (_row, previous) => known(previous, ['invoiceNumber', ...fieldsMappedFrom(mappings, { shop: true })]),
    knownFromSalesforce: () => [],

    // Salesforce owns invoices: written there only when a shop change is accepted (conflictPolicy accept)
    toSalesforce(inv, ctx, op) {
      const target = { sobject: obj, externalIdField: ext, externalId: inv.invoiceNumber };
      const opportunityRef = () => [{ field: 'Opportunity__c', relationshipName: 'Opportunity__r', sobject: 'Opportunity', externalIdField: cfg.orderExternalId, externalId: externalIdOf(shopId, inv.orderNumber) }];
      // a delete keeps its lookup (when known): the sink deletes the invoice before its Opportunity
      if (op === 'DELETE') return [salesforceWrite(ctx, 'DELETE', 0, { ...target, references: inv.orderNumber ? opportunityRef() : [] })];
      const { fields, decimalFields } = salesforceFields(K, mappings, obj, inv);
      return [salesforceWrite(ctx, 'UPSERT', 0, {
        ...target, fields, decimalFields, parentKeys: [entityKey(shopId, inv.orderNumber)], references: opportunityRef(),
      })];
    },

    toShop(inv, ctx, op, opts) {
      const keyColumns = ['shop_id', 'invoice_number'];
      const key = { shop_id: shopId, invoice_number: inv.invoiceNumber };
      if (op === 'DELETE') return [shopWrite(ctx, 'DELETE', 0, { table, keyColumns, row: key })];
      const row: Record<string, FieldValue> = { ...key, ...shopColumns(K, mappings, inv, opts?.fields) };
      if (wants(opts, 'amount', 'taxAmount')) {
        const tax = normalizeMoney(inv.taxAmount ?? '0');
        Object.assign(row, { total_amount: inv.amount, tax_amount: tax, net_amount: subtractMoney(inv.amount, tax) });
      }
      if ('paid_amount' in row) row.paid_amount = inv.paidAmount ?? '0.00';
      // a calendar date into a timestamptz column: midnight UTC, whatever the session's time zone
      if (typeof row.issued_at === 'string') row.issued_at = `${row.issued_at}T00:00:00Z`;
      return [shopWrite(ctx, 'UPSERT', 0, { table, keyColumns, row, parentKeys: inv.orderNumber ? [entityKey(shopId, inv.orderNumber)] : [] })];
    },
  };
}
