/**
 * An order's payment status: what its payments captured minus what was refunded, against the order
 * total. A payment counts by its status in the shop: `captured` brought its amount in; `refunded` was
 * captured and then given back in full (the provider's refund of that transaction); `pending`,
 * `authorized`, `failed` and `voided` moved no money.
 */
import { addMoney, compareMoney, normalizeMoney, subtractMoney } from '../money.ts';
import type { OrderPayment } from './record.ts';

export type PaymentStatus = 'unpaid' | 'authorized' | 'partially_paid' | 'paid' | 'overpaid' | 'refunded';

/** Statuses whose money does not match the order total: they raise an alert when they last. */
export const MISMATCHED: readonly PaymentStatus[] = ['partially_paid', 'overpaid'];

export interface PaymentSummary {
  captured: string;
  refunded: string;
  /** captured - refunded */
  paidAmount: string;
  status: PaymentStatus;
}

const sum = (payments: OrderPayment[]) => addMoney('0', ...payments.map((p) => p.amount));

/** The payment status of an order with this total; null for an order with no payment at all. */
export function paymentSummary(total: string, payments: OrderPayment[]): PaymentSummary | null {
  if (payments.length === 0) return null;
  const captured = sum(payments.filter((p) => p.status === 'captured' || p.status === 'refunded'));
  const refunded = sum(payments.filter((p) => p.status === 'refunded'));
  const paidAmount = subtractMoney(captured, refunded);
  const zero = normalizeMoney('0');
  let status: PaymentStatus;
  if (compareMoney(captured, zero) === 0) status = payments.some((p) => p.status === 'authorized') ? 'authorized' : 'unpaid';
  else if (compareMoney(refunded, zero) > 0 && compareMoney(paidAmount, zero) <= 0) status = 'refunded';
  else {
    const c = compareMoney(paidAmount, total);
    status = c < 0 ? 'partially_paid' : c === 0 ? 'paid' : 'overpaid';
  }
  return { captured, refunded, paidAmount, status };
}

/** One line for the alert of an order whose payments do not match its total; null when they do (or there are none). */
export function paymentMismatch(order: { orderNumber?: unknown; total?: unknown; payments?: unknown }): string | null {
  const payments = Array.isArray(order.payments) ? (order.payments as OrderPayment[]) : [];
  const total = typeof order.total === 'string' ? order.total : null;
  const s = total === null ? null : paymentSummary(total, payments);
  if (!s || !MISMATCHED.includes(s.status)) return null;
  return `order ${String(order.orderNumber)}: payments captured ${s.captured}, refunded ${s.refunded}: ${s.paidAmount} paid against a total of ${total} (${s.status.replace('_', ' ')})`;
}
