/** entities.order: shop orders + order lines -> Opportunity + OpportunityLineItems. */
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
    shopTables: ['orders', 'order_lines'], salesforceObjects: ['Opportunity', 'OpportunityLineItem'],
    externalIds: { Opportunity: 'Shop_Order_Id__c', OpportunityLineItem: 'Shop_Line_Id__c' }, master: 'shop', deletePolicy: 'propagate',
  },
  options: {
    stageMap: z.record(z.string(), z.string()).default(DEFAULT_STAGES).describe('Shop order status -> Opportunity.StageName.'),
    defaultStage: z.string().default('Prospecting').describe('StageName for a status not in stageMap.'),
    namePrefix: z.string().default('Order ').describe('Opportunity.Name = namePrefix + order number.'),
    pricebook: z.string().default('standard').describe('Price book whose entries the line items use ("standard" or a Pricebook2 name).'),
  },
});

export type OrderConfig = z.output<typeof orderConfig>;
