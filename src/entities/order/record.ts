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
  createdAt: number | null;
  updatedAt: number | null;
  extra: Extra;
}

export const ORDER_KINDS: FieldKinds = {
  orderNumber: 'string', customerId: 'string', status: 'string', currency: 'string', subtotal: 'money',
  discountTotal: 'money', taxTotal: 'money', shippingTotal: 'money', total: 'money', placedAt: 'timestamp', closeDate: 'date',
  lines: 'nested', createdAt: 'timestamp', updatedAt: 'timestamp',
};

export function emptyOrder(orderNumber: string): Order {
  return {
    orderNumber, customerId: '', status: 'pending', currency: 'EUR', subtotal: null, discountTotal: null, taxTotal: null,
    shippingTotal: null, total: '0.00', placedAt: null, closeDate: null, lines: [], createdAt: null, updatedAt: null, extra: {},
  };
}
