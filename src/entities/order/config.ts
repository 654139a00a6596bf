/** entities.order: shop orders + order lines -> Opportunity + OpportunityLineItems; payments -> payment status. */
import { z } from 'zod';
import { entitySection } from '../config-section.ts';
import { ORDER_KINDS } from './record.ts';

const DEFAULT_STAGES: Record<string, string> = {
  pending: 'Prospecting', awaiting_payment: 'Proposal/Price Quote', paid: 'Closed Won', fulfilled: 'Closed Won',
  shipped: 'Closed Won', delivered: 'Closed Won', completed: 'Closed Won', cancelled: 'Closed Lost', refunded: 'Closed Lost',
};

export const orderConfig = entitySection({
  entity: 'order',
  kinds: ORDER_KINDS,
  defaults: {
    shopTables: ['orders', 'order_lines', 'payments'], salesforceObjects: ['Opportunity', 'OpportunityLineItem'],
    externalIds: { Opportunity: 'Shop_Order_Id__c', OpportunityLineItem: 'Shop_Line_Id__c' }, master: 'shop', deletePolicy: 'propagate',
  },
  options: {
    stageMap: z.record(z.string(), z.string()).default(DEFAULT_STAGES).describe('Shop order status -> Opportunity.StageName.'),
    defaultStage: z.string().default('Prospecting').describe('StageName for a status not in stageMap.'),
    namePrefix: z.string().default('Order ').describe('Opportunity.Name = namePrefix + order number.'),
    pricebook: z.string().default('standard').describe('Price book whose entries the line items use ("standard" or a Pricebook2 name).'),
    paymentMismatchAlertAfterMs: z.number().int().min(0).default(3_600_000)
      .describe('An order whose payments (captured minus refunded, third shop table) stay short of or over its total this long raises an alert and an audit record (ms; 0 = never).'),
  },
});

export type OrderConfig = z.output<typeof orderConfig>;
