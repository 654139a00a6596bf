/**
 * support_ticket: shop support_tickets -> Salesforce Case (external id Shop_Ticket_Id__c), linked to the
 * customer's Contact and Account (Shop_Customer_Id__c) and to the order's Opportunity (Order__c by
 * Shop_Order_Id__c). Status, priority and channel go through value maps onto Case's picklists
 * (Status, Priority, Origin); by default Salesforce owns the status (agents work the Case).
 */
import { salesforceWrite, shopWrite } from '../commands.ts';
import { known, wants, type EntityMapping } from '../entity.ts';
import { entityKey, externalIdOf, requiredKeyParts } from '../keys.ts';
import { fieldsMappedFrom, mergeMappings, readSalesforceImage, readShopRow, salesforceFields, shopColumns, type FieldMapping } from '../mapping.ts';
import type { SalesforceReference } from '../types.ts';
import { requiredStr } from '../values.ts';
import type { SupportTicketConfig } from './config.ts';
import { emptyTicket, SUPPORT_TICKET_KINDS as K, type SupportTicket } from './record.ts';
import { clonePlain } from '../clone.ts';

/**
 * Case picklists (docs: Status New / Working / Escalated / Closed, more per org, several may count as
 * closed; Priority High / Medium / Low; Origin Phone / Email / Web). Several shop values may share one
 * Salesforce value: reading it back keeps the ticket's own (resolved stays resolved).
 */
export const SUPPORT_TICKET_FIELDS: FieldMapping[] = [
  { canonical: 'subject', shop: 'subject', salesforce: 'Case.Subject', transform: 'none' },
  { canonical: 'description', shop: 'description', salesforce: 'Case.Description', transform: 'none' },
  { canonical: 'status', shop: 'status', salesforce: 'Case.Status', transform: 'none',
    valueMap: { new: 'New', open: 'Working', pending: 'Waiting on Customer', closed: 'Closed', resolved: 'Closed' } },
  { canonical: 'priority', shop: 'priority', salesforce: 'Case.Priority', transform: 'none',
    valueMap: { low: 'Low', medium: 'Medium', high: 'High', urgent: 'High' } },
  { canonical: 'channel', shop: 'channel', salesforce: 'Case.Origin', transform: 'none',
    valueMap: { email: 'Email', phone: 'Phone', web: 'Web', chat: 'Web' } },
  { canonical: 'customerId', shop: 'customer_number', transform: 'none' },
  { canonical: 'orderNumber', shop: 'order_number', transform: 'none' },
  { canonical: 'createdAt', shop: 'created_at', transform: 'none' },
  { canonical: 'updatedAt', shop: 'updated_at', transform: 'none' },
];

export function createSupportTicketMapping(cfg: SupportTicketConfig, shopId: string): EntityMapping<SupportTicket, Record<string, unknown>, Record<string, unknown>> {
  const mappings = mergeMappings(SUPPORT_TICKET_FIELDS, cfg.fields);
  const [caseObj] = cfg.salesforceObjects;
  const caseExt = cfg.externalIds[caseObj];
  const [ticketsTable] = cfg.shopTables;

  /** The Case's lookups: the customer's Contact and Account, and the order's Opportunity. */
  function references(t: SupportTicket): SalesforceReference[] {
    const byCustomer = (field: string, sobject: string): SalesforceReference =>
      ({ field, relationshipName: sobject, sobject, externalIdField: 'Shop_Customer_Id__c', externalId: externalIdOf(shopId, t.customerId) });
    return [
      byCustomer('ContactId', 'Contact'), byCustomer('AccountId', 'Account'),
      ...(t.orderNumber ? [{ field: 'Order__c', relationshipName: 'Order__r', sobject: 'Opportunity', externalIdField: 'Shop_Order_Id__c', externalId: externalIdOf(shopId, t.orderNumber) }] : []),
    ];
  }

  return {
    name: 'support_ticket',
    key: (t) => entityKey(shopId, t.ticketId),

    fromShopRow(row, previous) {
      const ticketId = requiredStr(`${ticketsTable}.ticket_number`, row.ticket_number);
      const t: SupportTicket = previous ? clonePlain(previous) : emptyTicket(ticketId);
      t.ticketId = ticketId;
      readShopRow(K, mappings, row, t, ticketsTable);
      return t;
    },

    fromSalesforce(image, previous) {
      const [ticketId] = requiredKeyParts(`${caseObj}.${caseExt}`, image[caseExt], 1) as [string];
      const t: SupportTicket = previous ? clonePlain(previous) : emptyTicket(ticketId);
      t.ticketId = ticketId;
      readSalesforceImage(K, mappings, caseObj, image, t);
      // the record's subject and status are never null: an emptied Subject is a change (to ''), a
      // Status Salesforce never leaves empty reads as before
      t.subject ??= '';
      t.status ??= previous?.status ?? 'new';
      return t;
    },

    knownFromShop(_row, previous) {
      return known(previous, ['ticketId', ...fieldsMappedFrom(mappings, { shop: true })]);
    },

    // the Case's lookups are ids, not the shop's numbers: customer and order are the shop's to say
    knownFromSalesforce(_image, previous) {
      return known(previous, ['ticketId', ...fieldsMappedFrom(mappings, { objects: [caseObj] })]);
    },

    toSalesforce(t, ctx, op, opts) {
      const target = { sobject: caseObj, externalIdField: caseExt, externalId: externalIdOf(shopId, t.ticketId) };
      // a delete keeps its lookups (when known): the sink deletes the Case before its Contact, Account and Opportunity
      if (op === 'DELETE') return [salesforceWrite(ctx, 'DELETE', 0, { ...target, references: t.customerId ? references(t) : [] })];
      const { fields, decimalFields } = salesforceFields(K, mappings, caseObj, t, opts?.fields);
      // a ticket no longer about an order leaves the Case unlinked
      if (!t.orderNumber && wants(opts, 'orderNumber')) fields.Order__c = null;
      const parentKeys = [entityKey(shopId, t.customerId), ...(t.orderNumber ? [entityKey(shopId, t.orderNumber)] : [])];
      return [salesforceWrite(ctx, 'UPSERT', 0, { ...target, fields, decimalFields, references: references(t), parentKeys })];
    },

    toShop(t, ctx, op, opts) {
      const key = { shop_id: shopId, ticket_number: t.ticketId };
      const keyColumns = ['shop_id', 'ticket_number'];
      if (op === 'DELETE') return [shopWrite(ctx, 'DELETE', 0, { table: ticketsTable, keyColumns, row: key })];
      return [shopWrite(ctx, 'UPSERT', 0, { table: ticketsTable, keyColumns, row: { ...key, ...shopColumns(K, mappings, t, opts?.fields) } })];
    },
  };
}
