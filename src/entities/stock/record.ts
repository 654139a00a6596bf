/** The canonical stock level of one SKU in one warehouse (schemas/stock.avsc). */
import type { FieldKinds } from '../fields.ts';
import type { Extra } from '../types.ts';

export interface StockLevel {
  sku: string;
  warehouseCode: string;
  quantity: number;
  updatedAt: number | null;
  extra: Extra;
}

export const STOCK_KINDS: FieldKinds = { sku: 'string', warehouseCode: 'string', quantity: 'int', updatedAt: 'timestamp' };

export function emptyStock(sku: string, warehouseCode: string): StockLevel {
  return { sku, warehouseCode, quantity: 0, updatedAt: null, extra: {} };
}
