/** entities.support_ticket: shop support tickets -> Case, the status back. */
import type { z } from 'zod';
import { entitySection } from '../config-section.ts';
import { SUPPORT_TICKET_KINDS } from './record.ts';

export const supportTicketConfig = entitySection({
  entity: 'support_ticket',
  kinds: SUPPORT_TICKET_KINDS,
  defaults: {
    shopTables: ['support_tickets'], salesforceObjects: ['Case'],
    externalIds: { Case: 'Shop_Ticket_Id__c' }, master: 'shop',
    // agents work the Case: its status comes back to the shop; the ticket's text is the customer's
    fieldMasters: { status: 'salesforce' }, deletePolicy: 'ignore',
  },
  options: {},
});

export type SupportTicketConfig = z.output<typeof supportTicketConfig>;
