/**
 * invoice: Salesforce Invoice__c (external id Invoice_Number__c) -> shop invoices, owned by Salesforce,
 * linked to the shop order through its Opportunity's external id (the router reads
 * Opportunity__c -> Shop_Order_Id__c, cached per Opportunity).
 */
import { defineEntity } from '../definition.ts';
import { mergeMappings } from '../mapping.ts';
import { readExternalId } from '../keys.ts';
import { keyedBy, one, single } from '../parts.ts';
import { invoiceConfig } from './config.ts';
import { createInvoiceMapping, INVOICE_FIELDS, invoiceOrderLookup, orderOfInvoiceField } from './mapping.ts';
import { INVOICE_KINDS } from './record.ts';

export const invoice = defineEntity({
  name: 'invoice',
  description: 'Salesforce Invoice__c -> shop invoices, linked to the order.',
  kinds: INVOICE_KINDS,
  config: invoiceConfig,
  fieldMappings: (cfg) => mergeMappings(INVOICE_FIELDS, cfg.fields),
  flow(cfg) {
    const [table] = cfg.shopTables;
    const [object] = cfg.salesforceObjects;
    return {
      entity: 'invoice',
      shop: { [table!]: { as: 'invoice', many: false, ...keyedBy('invoice_number') } },
      salesforce: {
        [object!]: {
          as: 'Invoice__c', many: false, key: one(cfg.externalIds[object!]!),
          parentFields: [invoiceOrderLookup(cfg.orderExternalId)],
          // the shop whose order the invoice is for ("<shop>|<order number>" on the Opportunity)
          shop: (image) => readExternalId(image[orderOfInvoiceField(cfg.orderExternalId)])?.shopId,
        },
      },
      shopInput: (p) => single(p, 'invoice'),
      salesforceInput: (p) => single(p, 'Invoice__c'),
    };
  },
  mapping: (cfg, shopId) => createInvoiceMapping(cfg, shopId),
  policy: () => ({}),
});
