/** entities.customer: shop customers + addresses <-> Account + Contact. */
import { z } from 'zod';
import { entitySection } from '../config-section.ts';
import { CUSTOMER_KINDS } from './record.ts';

export const customerConfig = entitySection({
  entity: 'customer',
  kinds: CUSTOMER_KINDS,
  defaults: {
    shopTables: ['customers', 'addresses'], salesforceObjects: ['Account', 'Contact'],
    externalIds: { Account: 'Shop_Customer_Id__c', Contact: 'Shop_Customer_Id__c' }, master: 'shop',
    fieldMasters: { creditStatus: 'salesforce' }, deletePolicy: 'ignore',
  },
  options: {
    accountName: z.enum(['company-or-person', 'person']).default('company-or-person')
      .describe('Account.Name: the company when set, else "First Last"; or always the person.'),
  },
});

export type CustomerConfig = z.output<typeof customerConfig>;
