/**
 * Canonical records (TypeScript mirror of schemas/*.avsc). Money is a decimal string, instants are epoch ms,
 * calendar dates are 'YYYY-MM-DD' strings.
 */
export type Origin = 'SHOP' | 'SALESFORCE';
export type Op = 'UPSERT' | 'DELETE';
export type EntityName =
  | 'customer' | 'order' | 'product' | 'stock' | 'payment' | 'invoice' | 'support_ticket' | 'campaign_segment';

export const ENTITY_NAMES: readonly EntityName[] = [
  'customer', 'order', 'product', 'stock', 'payment', 'invoice', 'support_ticket', 'campaign_segment',
];

export type Extra = Record<string, string | null>;

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

export interface StockLevel {
  sku: string;
  warehouseCode: string;
  quantity: number;
  updatedAt: number | null;
  extra: Extra;
}

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

export interface SupportTicket {
  ticketId: string;
  customerId: string;
  orderNumber: string | null;
  subject: string;
  description: string | null;
  status: string;
  priority: string | null;
  channel: string | null;
  createdAt: number | null;
  updatedAt: number | null;
  extra: Extra;
}

export interface SegmentMember { customerId: string; status: string | null }

export interface CampaignSegment {
  segmentId: string;
  name: string;
  description: string | null;
  active: boolean;
  members: SegmentMember[];
  updatedAt: number | null;
  extra: Extra;
}

export interface EntityRecords {
  customer: Customer;
  order: Order;
  product: Product;
  stock: StockLevel;
  payment: Payment;
  invoice: Invoice;
  support_ticket: SupportTicket;
  campaign_segment: CampaignSegment;
}

/** The envelope of every sync.<entity> value (schemas/<entity>.avsc). */
export interface CanonicalChange<T extends object = object> {
  shopId: string;
  entity: string;
  key: string;
  origin: Origin;
  sourcePosition: string;
  transactionId: string;
  eventTime: number;
  op: Op;
  sourceRecordId: string | null;
  sourceVersion: number | null;
  changeOrigin: string | null;
  record: T | null;
  /** Top-level canonical fields the source knew for this change; empty = all. */
  knownFields: string[];
}

export type FieldValue = string | number | boolean | null;

/** A value of sync.out.salesforce (schemas/salesforce_write.avsc). */
export interface SalesforceReference {
  field: string;
  relationshipName: string;
  sobject: string;
  externalIdField: string;
  externalId: string;
}
export interface PricebookEntryReference {
  field: string;
  sku: string;
  currency: string | null;
  pricebook: string;
}
export interface SalesforceWrite {
  commandId: string;
  shopId: string;
  entity: string;
  key: string;
  sourcePosition: string;
  transactionId: string;
  eventTime: number;
  operation: Op;
  sequence: number;
  sobject: string;
  externalIdField: string;
  externalId: string;
  fields: Record<string, FieldValue>;
  decimalFields: string[];
  references: SalesforceReference[];
  pricebookEntry: PricebookEntryReference | null;
  parentKeys: string[];
  /** A re-assertion of the master's value: written even if equal to our last write (the record changed since). */
  reassert: boolean;
}

/** A value of sync.out.shop (schemas/shop_write.avsc). */
export interface ShopWrite {
  commandId: string;
  shopId: string;
  entity: string;
  key: string;
  sourcePosition: string;
  transactionId: string;
  eventTime: number;
  operation: Op;
  sequence: number;
  table: string;
  keyColumns: string[];
  row: Record<string, FieldValue>;
  sourceVersion: number | null;
  parentKeys: string[];
}
