/** The shop tables Debezium captures (all in schema `public`), parents before children. */
export const SYNCED_TABLES = [
  'customers', 'addresses', 'products', 'warehouses', 'stock_levels', 'orders', 'order_lines',
  'payments', 'invoices', 'support_tickets', 'customer_segments', 'segment_members',
] as const;

export type SyncedTable = (typeof SYNCED_TABLES)[number];

/** Name of the publication migration 008 creates; the connector reads it. */
export const PUBLICATION_NAME = 'shopforce_publication';

/** Business key columns of each table (shop_id first): what seeds and upserts conflict on. */
export const BUSINESS_KEYS: Record<SyncedTable, readonly string[]> = {
  customers: ['shop_id', 'customer_number'],
  addresses: ['shop_id', 'customer_number', 'address_type', 'label'],
  products: ['shop_id', 'sku'],
  warehouses: ['shop_id', 'warehouse_code'],
  stock_levels: ['shop_id', 'sku', 'warehouse_code'],
  orders: ['shop_id', 'order_number'],
  order_lines: ['shop_id', 'order_number', 'line_number'],
  payments: ['shop_id', 'provider_transaction_id'],
  invoices: ['shop_id', 'invoice_number'],
  support_tickets: ['shop_id', 'ticket_number'],
  customer_segments: ['shop_id', 'segment_code'],
  segment_members: ['shop_id', 'segment_code', 'customer_number'],
};

export const DEFAULT_SHOP_ID = 'shop-1';
