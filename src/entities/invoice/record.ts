/** The canonical invoice (schemas/invoice.avsc). */
import type { FieldKinds } from '../fields.ts';
import type { Extra } from '../types.ts';

export interface Invoice {
  invoiceNumber: string;
  orderNumber: string;
  amount: string;
  taxAmount: string | null;
  currency: string;
  status: string;
  issueDate: string | null;
  dueDate: string | null;
  documentUrl: string | null;
  updatedAt: number | null;
  extra: Extra;
}

export const INVOICE_KINDS: FieldKinds = {
  invoiceNumber: 'string', orderNumber: 'string', amount: 'money', taxAmount: 'money', currency: 'string',
  status: 'string', issueDate: 'date', dueDate: 'date', documentUrl: 'string', updatedAt: 'timestamp',
};
