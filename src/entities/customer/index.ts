/**
 * customer: shop customers + addresses <-> Salesforce Account + Contact (external id
 * Shop_Customer_Id__c = "<shop>|<customer number>" on both), owned by the shop except the credit status.
 */
import { defineEntity } from '../definition.ts';
import { mergeMappings } from '../mapping.ts';
import { byExternalId, keyedBy, list, single } from '../parts.ts';
import { customerConfig } from './config.ts';
import { createCustomerMapping, CUSTOMER_FIELDS } from './mapping.ts';
import { CUSTOMER_KINDS } from './record.ts';

export const customer = defineEntity({
  name: 'customer',
  description: 'Shop customers + addresses <-> Account + Contact.',
  kinds: CUSTOMER_KINDS,
  config: customerConfig,
  fieldMappings: (cfg) => mergeMappings(CUSTOMER_FIELDS, cfg.fields),
  flow(cfg) {
    const [customers, addresses] = cfg.shopTables;
    const [account, contact] = cfg.salesforceObjects;
    return {
      entity: 'customer',
      shop: {
        [customers!]: { as: 'customer', many: false, ...keyedBy('customer_number') },
        ...(addresses ? { [addresses]: { as: 'addresses', many: true, ...keyedBy('customer_number') } } : {}),
      },
      salesforce: {
        [account!]: { as: 'Account', many: false, ...byExternalId(cfg.externalIds[account!]!) },
        ...(contact ? { [contact]: { as: 'Contact', many: false, ...byExternalId(cfg.externalIds[contact]!) } } : {}),
      },
      shopInput: (p) => single(p, 'customer') && { customer: single(p, 'customer'), addresses: list(p, 'addresses') },
      salesforceInput: (p) => (single(p, 'Account') || single(p, 'Contact')) && { Account: single(p, 'Account'), Contact: single(p, 'Contact') },
    };
  },
  mapping: (cfg, shopId) => createCustomerMapping(cfg, shopId),
  policy: () => ({}),
});
