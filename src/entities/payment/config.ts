/** entities.payment: shop payments -> Payment__c, linked to the order's Opportunity. */
import type { z } from 'zod';
import { entitySection } from '../config-section.ts';
import { PAYMENT_KINDS } from './record.ts';

export const paymentConfig = entitySection({
  entity: 'payment',
  kinds: PAYMENT_KINDS,
  defaults: {
    shopTables: ['payments'], salesforceObjects: ['Payment__c'],
    externalIds: { Payment__c: 'Provider_Transaction_Id__c' }, master: 'shop', deletePolicy: 'ignore',
  },
  options: {},
});

export type PaymentConfig = z.output<typeof paymentConfig>;
