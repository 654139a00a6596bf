/** The canonical customer (schemas/customer.avsc). */
import type { FieldKinds } from '../fields.ts';
import type { Extra } from '../types.ts';

export interface Address {
  line1: string | null;
  line2: string | null;
  city: string | null;
  postalCode: string | null;
  region: string | null;
  country: string | null;
}

export interface Customer {
  customerId: string;
  email: string | null;
  firstName: string | null;
  lastName: string;
  phone: string | null;
  company: string | null;
  marketingOptIn: boolean | null;
  creditStatus: string | null;
  billingAddress: Address | null;
  shippingAddress: Address | null;
  createdAt: number | null;
  updatedAt: number | null;
  extra: Extra;
}

export const CUSTOMER_KINDS: FieldKinds = {
  customerId: 'string', email: 'string', firstName: 'string', lastName: 'string', phone: 'string',
  company: 'string', marketingOptIn: 'boolean', creditStatus: 'string', billingAddress: 'nested',
  shippingAddress: 'nested', createdAt: 'timestamp', updatedAt: 'timestamp',
};

export function emptyCustomer(customerId: string): Customer {
  return {
    customerId, email: null, firstName: null, lastName: '', phone: null, company: null, marketingOptIn: null,
    creditStatus: null, billingAddress: null, shippingAddress: null, createdAt: null, updatedAt: null, extra: {},
  };
}
