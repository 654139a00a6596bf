/** entities.payment: shop payments -> Payment__c, linked to the order's Opportunity. */
import type { z } from 'zod';
import { entitySection, sfName } from '../config-section.ts';
import { PAYMENT_KINDS } from './record.ts';

export const paymentConfig = entitySection({
  entity: 'payment',
  kinds: PAYMENT_KINDS,
  defaults: {
    shopTables: ['payments'], salesforceObjects: ['Payment__c'],
    externalIds: { Payment__c: 'Provider_Transaction_Id__c' }, master: 'shop', deletePolicy: 'ignore',
  },
  options: {
    orderExternalId: sfName.default('Shop_Order_Id__c')
      .describe('External id field of the order\'s Opportunity (entities.order.externalIds.Opportunity): Payment__c.Opportunity__c refers to it.'),
  },
});

export type PaymentConfig = z.output<typeof paymentConfig>;
