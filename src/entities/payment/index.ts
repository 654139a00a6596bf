/**
 * payment: shop payments -> Salesforce Payment__c (external id "<shop id>|<provider>|<provider
 * transaction id>"), linked to the order's Opportunity, owned by the shop. What the payments of an
 * order add up to is the order's business: the order entity reads the payments table too and writes
 * its payment status (src/entities/order/payments.ts).
 */
import { defineEntity } from '../definition.ts';
import { mergeMappings } from '../mapping.ts';
import { keyedBy, single } from '../parts.ts';
import { paymentConfig } from './config.ts';
import { createPaymentMapping, PAYMENT_FIELDS, paymentOfExternalId } from './mapping.ts';
import { PAYMENT_KINDS } from './record.ts';

export const payment = defineEntity({
  name: 'payment',
  description: 'Shop payments -> Payment__c, linked to the order\'s Opportunity.',
  kinds: PAYMENT_KINDS,
  config: paymentConfig,
  fieldMappings: (cfg) => mergeMappings(PAYMENT_FIELDS, cfg.fields),
  flow(cfg) {
    const [table] = cfg.shopTables;
    const [object] = cfg.salesforceObjects;
    const ext = cfg.externalIds[object!]!;
    return {
      entity: 'payment',
      shop: {
        [table!]: {
          as: 'payment', many: false,
          ...keyedBy('provider', 'provider_transaction_id'),
        },
      },
      salesforce: {
        [object!]: {
          as: 'Payment__c', many: false,
          key: (image) => {
            const id = paymentOfExternalId(image[ext]);
            return id ? [id.provider, id.providerTransactionId] : undefined;
          },
          shop: (image) => paymentOfExternalId(image[ext])?.shopId,
        },
      },
      shopInput: (p) => single(p, 'payment'),
      salesforceInput: (p) => single(p, 'Payment__c'),
    };
  },
  mapping: (cfg, shopId) => createPaymentMapping(cfg, shopId),
  policy: () => ({}),
});
