import type { EntityName } from './types.ts';

/** How a canonical field's value is typed; decides how raw values are read and written. */
export type FieldKind = 'string' | 'money' | 'int' | 'boolean' | 'timestamp' | 'date' | 'nested';

/**
 * The top-level fields of each canonical record and their kinds. Reconcile compares and masters
 * records field by field at this level; `nested` fields (addresses, lines, members) compare whole.
 */
export const CANONICAL_FIELDS: Record<EntityName, Record<string, FieldKind>> = {
  customer: {
    customerId: 'string', email: 'string', firstName: 'string', lastName: 'string', phone: 'string',
    company: 'string', marketingOptIn: 'boolean', creditStatus: 'string', billingAddress: 'nested',
    shippingAddress: 'nested', createdAt: 'timestamp', updatedAt: 'timestamp',
  },
  order: {
    orderNumber: 'string', customerId: 'string', status: 'string', currency: 'string', subtotal: 'money',
    discountTotal: 'money', taxTotal: 'money', shippingTotal: 'money', total: 'money', placedAt: 'timestamp', closeDate: 'date',
    lines: 'nested', createdAt: 'timestamp', updatedAt: 'timestamp',
  },
  product: {
    sku: 'string', name: 'string', description: 'string', family: 'string', active: 'boolean', price: 'money',
    currency: 'string', updatedAt: 'timestamp',
  },
  stock: { sku: 'string', warehouseCode: 'string', quantity: 'int', updatedAt: 'timestamp' },
  payment: {
    providerTransactionId: 'string', orderNumber: 'string', provider: 'string', method: 'string', amount: 'money',
    currency: 'string', status: 'string', capturedAt: 'timestamp', updatedAt: 'timestamp',
  },
  invoice: {
    invoiceNumber: 'string', orderNumber: 'string', amount: 'money', taxAmount: 'money', currency: 'string',
    status: 'string', issueDate: 'date', dueDate: 'date', documentUrl: 'string', updatedAt: 'timestamp',
  },
  support_ticket: {
    ticketId: 'string', customerId: 'string', orderNumber: 'string', subject: 'string', description: 'string',
    status: 'string', priority: 'string', channel: 'string', createdAt: 'timestamp', updatedAt: 'timestamp',
  },
  campaign_segment: {
    segmentId: 'string', name: 'string', description: 'string', active: 'boolean', members: 'nested',
    updatedAt: 'timestamp',
  },
};

/** Bookkeeping fields: they differ between the two sides by nature and never count as a change. */
export const VOLATILE_FIELDS: readonly string[] = ['createdAt', 'updatedAt'];

/** Fields that can be mapped by configuration: the flat canonical fields, or `extra.<name>`. */
export function isMappableField(entity: EntityName, field: string): boolean {
  if (/^extra\.[A-Za-z_][A-Za-z0-9_]*$/.test(field)) return true;
  const kind = CANONICAL_FIELDS[entity][field];
  return kind !== undefined && kind !== 'nested';
}

export function fieldKind(entity: EntityName, field: string): FieldKind {
  return field.startsWith('extra.') ? 'string' : CANONICAL_FIELDS[entity][field] ?? 'string';
}
