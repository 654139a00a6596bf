/** entities.invoice: Salesforce Invoice__c -> shop invoices, linked to the order. */
import type { z } from 'zod';
import { entitySection, sfName } from '../config-section.ts';
import { INVOICE_KINDS } from './record.ts';

export const invoiceConfig = entitySection({
  entity: 'invoice',
  kinds: INVOICE_KINDS,
  defaults: {
    shopTables: ['invoices'], salesforceObjects: ['Invoice__c'],
    externalIds: { Invoice__c: 'Invoice_Number__c' }, master: 'salesforce', deletePolicy: 'ignore',
  },
  options: {
    orderExternalId: sfName.default('Shop_Order_Id__c')
      .describe('External id field of the order\'s Opportunity (entities.order.externalIds.Opportunity): the invoice\'s Opportunity__c is read for it, and that is the shop order number.'),
  },
});

export type InvoiceConfig = z.output<typeof invoiceConfig>;
