/**
 * order: shop orders + order_lines -> Salesforce Opportunity + OpportunityLineItems (external ids
 * Shop_Order_Id__c and Shop_Line_Id__c = "<order number>-<line number>"), owned by the shop.
 */
import { defineEntity } from '../definition.ts';
import { mergeMappings } from '../mapping.ts';
import { keyedBy, list, single, text } from '../parts.ts';
import { orderConfig } from './config.ts';
import { createOrderMapping, ORDER_FIELDS } from './mapping.ts';
import { ORDER_KINDS } from './record.ts';

export const order = defineEntity({
  name: 'order',
  description: 'Shop orders + order lines -> Opportunity + OpportunityLineItems.',
  kinds: ORDER_KINDS,
  config: orderConfig,
  fieldMappings: (cfg) => mergeMappings(ORDER_FIELDS, cfg.fields),
  flow(cfg) {
    const [orders, lines] = cfg.shopTables;
    const [opportunity, lineItem] = cfg.salesforceObjects;
    const lineExt = lineItem ? cfg.externalIds[lineItem] : undefined;
    // a line item's external id is "<order number>-<line number>": the order number is its key
    const orderOfLine = (img: Record<string, unknown>) => {
      const v = lineExt ? text(img[lineExt]) : undefined;
      return v?.includes('-') ? [v.slice(0, v.lastIndexOf('-'))] : undefined;
    };
    return {
      entity: 'order',
      shop: {
        [orders!]: { as: 'order', many: false, ...keyedBy('order_number') },
        ...(lines ? { [lines]: { as: 'lines', many: true, ...keyedBy('order_number') } } : {}),
      },
      salesforce: {
        [opportunity!]: { as: 'Opportunity', many: false, ...keyedBy(cfg.externalIds[opportunity!]!) },
        ...(lineItem ? { [lineItem]: { as: 'lineItems', many: true, field: 'lines', key: orderOfLine, filter: lineExt ? `${lineExt} != null` : undefined } } : {}),
      },
      shopInput: (p) => single(p, 'order') && { order: single(p, 'order'), lines: list(p, 'lines') },
      salesforceInput: (p) => single(p, 'Opportunity') && { Opportunity: single(p, 'Opportunity'), lineItems: list(p, 'lineItems') },
    };
  },
  mapping: (cfg, shopId) => createOrderMapping(cfg, shopId),
  policy: () => ({}),
});
