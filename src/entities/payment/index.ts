/**
 * payment: shop payments -> Payment__c, linked to the order's Opportunity.
 * Its schema and configuration exist; its parts and mappings do not yet, so enabling it stops `run`
 * at start with what is missing.
 */
import { defineEntity } from '../definition.ts';
import { paymentConfig } from './config.ts';
import { PAYMENT_KINDS } from './record.ts';

export const payment = defineEntity({
  name: 'payment',
  description: 'Shop payments -> Payment__c.',
  kinds: PAYMENT_KINDS,
  config: paymentConfig,
});
