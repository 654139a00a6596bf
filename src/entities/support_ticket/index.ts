/**
 * support_ticket: shop support_tickets -> Salesforce Case (external id Shop_Ticket_Id__c = "<shop>|<ticket number>"), linked to the
 * customer's Contact and to the order's Opportunity; the Case's status comes back (Salesforce owns it).
 * A Case made in Salesforce without a shop ticket id is not a shop ticket and is left alone.
 */
import { defineEntity } from '../definition.ts';
import { mergeMappings } from '../mapping.ts';
import { keyedBy, byExternalId, single } from '../parts.ts';
import { supportTicketConfig } from './config.ts';
import { createSupportTicketMapping, SUPPORT_TICKET_FIELDS } from './mapping.ts';
import { SUPPORT_TICKET_KINDS } from './record.ts';

export const supportTicket = defineEntity({
  name: 'support_ticket',
  description: 'Shop support tickets -> Case (linked to the Contact and the order\'s Opportunity), the status back.',
  kinds: SUPPORT_TICKET_KINDS,
  config: supportTicketConfig,
  fieldMappings: (cfg) => mergeMappings(SUPPORT_TICKET_FIELDS, cfg.fields),
  flow(cfg) {
    const [tickets] = cfg.shopTables;
    const [caseObj] = cfg.salesforceObjects;
    return {
      entity: 'support_ticket',
      shop: { [tickets!]: { as: 'ticket', many: false, ...keyedBy('ticket_number') } },
      salesforce: { [caseObj!]: { as: 'Case', many: false, ...byExternalId(cfg.externalIds[caseObj!]!), keyOptional: true } },
      shopInput: (p) => single(p, 'ticket'),
      salesforceInput: (p) => single(p, 'Case'),
    };
  },
  mapping: (cfg, shopId) => createSupportTicketMapping(cfg, shopId),
  // a ticket opened in the shop gives its new Case its status; after that the Case's status is the agents'
  policy: () => ({ seedOnCreate: true }),
});
