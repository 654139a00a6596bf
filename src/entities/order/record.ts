/** The canonical order with its lines (schemas/order.avsc). */
import type { FieldKinds } from '../fields.ts';
import type { Extra } from '../types.ts';

export interface OrderLine {
  lineId: string;
  lineNumber: number;
  sku: string;
  productName: string | null;
  quantity: number;
  unitPrice: string;
  discount: string | null;
  lineTotal: string;
}

/** A payment of the order as far as its status needs it (the payment entity syncs the payment itself). */
export interface OrderPayment {
  /** "<provider>|<provider transaction id>". */
  paymentId: string;
  amount: string;
  /** The shop's payment status: pending, authorized, captured, failed, refunded, voided. */
  status: string;
}

export interface Order {
  orderNumber: string;
  customerId: string;
  status: string;
  currency: string;
  subtotal: string | null;
  discountTotal: string | null;
  taxTotal: string | null;
  shippingTotal: string | null;
  total: string | null;
  placedAt: number | null;
  closeDate: string | null;
  lines: OrderLine[];
  /** The order's payments, by payment id (from the shop's payments table, when read). */
  payments: OrderPayment[];
  /** Captured minus refunded against the total (src/entities/order/payments.ts); null before any payment. */
  paymentStatus: string | null;
  /** Captured minus refunded; null before any payment. */
  paidAmount: string | null;
  createdAt: number | null;
  updatedAt: number | null;
  extra: Extra;
}

export const ORDER_KINDS: FieldKinds = {
  orderNumber: 'string', customerId: 'string', status: 'string', currency: 'string', subtotal: 'money',
  discountTotal: 'money', taxTotal: 'money', shippingTotal: 'money', total: 'money', placedAt: 'timestamp', closeDate: 'date',
  lines: 'nested', payments: 'nested', paymentStatus: 'string', paidAmount: 'money', createdAt: 'timestamp', updatedAt: 'timestamp',
};

export function emptyOrder(orderNumber: string): Order {
  return {
    orderNumber, customerId: '', status: 'pending', currency: 'EUR', subtotal: null, discountTotal: null, taxTotal: null,
    shippingTotal: null, total: '0.00', placedAt: null, closeDate: null, lines: [], payments: [], paymentStatus: null, paidAmount: null,
    createdAt: null, updatedAt: null, extra: {},
  };
}
