/** The canonical payment (schemas/payment.avsc). */
import type { FieldKinds } from '../fields.ts';
import type { Extra } from '../types.ts';

export interface Payment {
  providerTransactionId: string;
  orderNumber: string;
  provider: string | null;
  method: string | null;
  amount: string;
  currency: string;
  status: string;
  capturedAt: number | null;
  updatedAt: number | null;
  extra: Extra;
}

export const PAYMENT_KINDS: FieldKinds = {
  providerTransactionId: 'string', orderNumber: 'string', provider: 'string', method: 'string', amount: 'money',
  currency: 'string', status: 'string', capturedAt: 'timestamp', updatedAt: 'timestamp',
};

export function emptyPayment(providerTransactionId: string, provider: string | null): Payment {
  return {
    providerTransactionId, orderNumber: '', provider, method: null, amount: '0.00', currency: 'EUR', status: 'pending',
    capturedAt: null, updatedAt: null, extra: {},
  };
}
