/**
 * order: shop orders + order_lines -> Salesforce Opportunity + OpportunityLineItems (external ids
 * Shop_Order_Id__c = "<shop>|<order number>" and Shop_Line_Id__c = "<shop>|<order number>|<line number>"),
 * owned by the shop. The order's payments are a part of it too (like its lines): captured minus
 * refunded against the total gives its payment status, and a status that does not match the total
 * alerts when it lasts.
 */
import { defineEntity } from '../definition.ts';
import { mergeMappings } from '../mapping.ts';
import { byExternalId, keyedBy, list, single } from '../parts.ts';
import { orderConfig } from './config.ts';
import { paymentMismatch } from './payments.ts';
import { createOrderMapping, ORDER_FIELDS } from './mapping.ts';
import { ORDER_KINDS } from './record.ts';

export const order = defineEntity({
  name: 'order',
  description: 'Shop orders + order lines -> Opportunity + OpportunityLineItems.',
  kinds: ORDER_KINDS,
  config: orderConfig,
  fieldMappings: (cfg) => mergeMappings(ORDER_FIELDS, cfg.fields),
  flow(cfg) {
    const [orders, lines, payments] = cfg.shopTables;
    const [opportunity, lineItem] = cfg.salesforceObjects;
    return {
      entity: 'order',
      shop: {
        [orders!]: { as: 'order', many: false, ...keyedBy('order_number') },
        ...(lines ? { [lines]: { as: 'lines', many: true, ...keyedBy('order_number') } } : {}),
        // the order's payments, for its payment status (the payment entity syncs each payment itself)
        ...(payments ? { [payments]: { as: 'payments', many: true, ...keyedBy('order_number') } } : {}),
      },
      salesforce: {
        [opportunity!]: { as: 'Opportunity', many: false, ...byExternalId(cfg.externalIds[opportunity!]!) },
        // a line item's external id holds its order number and its line number: the order is its entity
        ...(lineItem ? { [lineItem]: { as: 'lineItems', many: true, field: 'lines', ...byExternalId(cfg.externalIds[lineItem]!, ([order]) => [order!]) } } : {}),
      },
      shopInput: (p) => single(p, 'order') && { order: single(p, 'order'), lines: list(p, 'lines'), payments: list(p, 'payments') },
      salesforceInput: (p) => single(p, 'Opportunity') && { Opportunity: single(p, 'Opportunity'), lineItems: list(p, 'lineItems') },
    };
  },
  mapping: (cfg, shopId) => createOrderMapping(cfg, shopId),
  policy: (cfg) => (cfg.shopTables[2] && cfg.paymentMismatchAlertAfterMs > 0
    ? { watch: { kind: 'payment-mismatch', afterMs: cfg.paymentMismatchAlertAfterMs, check: paymentMismatch } }
    : {}),
});
