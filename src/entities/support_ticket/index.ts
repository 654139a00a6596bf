/**
 * support_ticket: shop support tickets -> Case, status back.
 * Its schema and configuration exist; its parts and mappings do not yet, so enabling it stops `run`
 * at start with what is missing.
 */
import { defineEntity } from '../definition.ts';
import { supportTicketConfig } from './config.ts';
import { SUPPORT_TICKET_KINDS } from './record.ts';

export const supportTicket = defineEntity({
  name: 'support_ticket',
  description: 'Shop support tickets -> Case.',
  kinds: SUPPORT_TICKET_KINDS,
  config: supportTicketConfig,
});
