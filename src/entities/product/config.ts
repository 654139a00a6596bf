/** entities.product: Salesforce Product2 + its price book entry -> shop products. */
import { z } from 'zod';
import { entitySection } from '../config-section.ts';
import { PRODUCT_KINDS } from './record.ts';

export const productConfig = entitySection({
  entity: 'product',
  kinds: PRODUCT_KINDS,
  defaults: {
    shopTables: ['products'], salesforceObjects: ['Product2', 'PricebookEntry'],
    externalIds: { Product2: 'Sku__c' }, master: 'salesforce', deletePolicy: 'deactivate',
  },
  options: {
    defaultCurrency: z.string().regex(/^[A-Z]{3}$/, { error: 'must be an ISO 4217 code like EUR' }).default('EUR')
      .describe('Currency of prices when the org has no multi-currency (no CurrencyIsoCode).'),
    pricebook: z.string().default('standard').describe('Price book whose entries carry the shop price.'),
  },
});

export type ProductConfig = z.output<typeof productConfig>;
