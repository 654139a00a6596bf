/** The canonical product with its price (schemas/product.avsc). */
import type { FieldKinds } from '../fields.ts';
import type { Extra } from '../types.ts';

export interface Product {
  sku: string;
  name: string;
  description: string | null;
  family: string | null;
  active: boolean;
  price: string | null;
  currency: string;
  updatedAt: number | null;
  extra: Extra;
}

export const PRODUCT_KINDS: FieldKinds = {
  sku: 'string', name: 'string', description: 'string', family: 'string', active: 'boolean', price: 'money',
  currency: 'string', updatedAt: 'timestamp',
};

export function emptyProduct(sku: string, currency: string): Product {
  return { sku, name: '', description: null, family: null, active: true, price: null, currency, updatedAt: null, extra: {} };
}
