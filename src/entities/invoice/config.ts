/** entities.invoice: Salesforce Invoice__c -> shop invoices, linked to the order. */
import type { z } from 'zod';
import { entitySection } from '../config-section.ts';
import { INVOICE_KINDS } from './record.ts';

export const invoiceConfig = entitySection({
  entity: 'invoice',
  kinds: INVOICE_KINDS,
  defaults: {
    shopTables: ['invoices'], salesforceObjects: ['Invoice__c'],
    externalIds: { Invoice__c: 'Invoice_Number__c' }, master: 'salesforce', deletePolicy: 'ignore',
  },
  options: {},
});

export type InvoiceConfig = z.output<typeof invoiceConfig>;
