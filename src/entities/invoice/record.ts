/** The canonical invoice (schemas/invoice.avsc). */
import type { FieldKinds } from '../fields.ts';
import type { Extra } from '../types.ts';

export interface Invoice {
  invoiceNumber: string;
  orderNumber: string;
  amount: string;
  taxAmount: string | null;
  /** Paid so far (null: not known). */
  paidAmount: string | null;
  currency: string;
  status: string;
  issueDate: string | null;
  dueDate: string | null;
  documentUrl: string | null;
  updatedAt: number | null;
  extra: Extra;
}

export const INVOICE_KINDS: FieldKinds = {
  invoiceNumber: 'string', orderNumber: 'string', amount: 'money', taxAmount: 'money', paidAmount: 'money', currency: 'string',
  status: 'string', issueDate: 'date', dueDate: 'date', documentUrl: 'string', updatedAt: 'timestamp',
};

export function emptyInvoice(invoiceNumber: string): Invoice {
  return {
    invoiceNumber, orderNumber: '', amount: '0.00', taxAmount: null, paidAmount: null, currency: 'EUR', status: 'issued',
    issueDate: null, dueDate: null, documentUrl: null, updatedAt: null, extra: {},
  };
}
