/**
 * invoice: Salesforce Invoice__c -> shop invoices, linked to the order.
 * Its schema and configuration exist; its parts and mappings do not yet, so enabling it stops `run`
 * at start with what is missing.
 */
import { defineEntity } from '../definition.ts';
import { invoiceConfig } from './config.ts';
import { INVOICE_KINDS } from './record.ts';

export const invoice = defineEntity({
  name: 'invoice',
  description: 'Salesforce Invoice__c -> shop invoices.',
  kinds: INVOICE_KINDS,
  config: invoiceConfig,
});
