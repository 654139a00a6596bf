/** The canonical support ticket (schemas/support_ticket.avsc). */
import type { FieldKinds } from '../fields.ts';
import type { Extra } from '../types.ts';

export interface SupportTicket {
  ticketId: string;
  customerId: string;
  orderNumber: string | null;
  subject: string;
  description: string | null;
  status: string;
  priority: string | null;
  channel: string | null;
  createdAt: number | null;
  updatedAt: number | null;
  extra: Extra;
}

export const SUPPORT_TICKET_KINDS: FieldKinds = {
  ticketId: 'string', customerId: 'string', orderNumber: 'string', subject: 'string', description: 'string',
  status: 'string', priority: 'string', channel: 'string', createdAt: 'timestamp', updatedAt: 'timestamp',
};

export function emptyTicket(ticketId: string): SupportTicket {
  return {
    ticketId, customerId: '', orderNumber: null, subject: '', description: null, status: 'new', priority: null, channel: null,
    createdAt: null, updatedAt: null, extra: {},
  };
}
