/**
 * order: shop orders + order_lines -> Salesforce Opportunity (stage from status, amount, close date) +
 * OpportunityLineItems (external ids Shop_Order_Id__c = "<shop>|<order number>", Shop_Line_Id__c =
 * "<shop>|<order number>|<line number>", keys.ts; the line's PricebookEntry is resolved by the sink from
 * the SKU and the configured price book). The order's payments (shop payments rows) give its payment
 * status and paid amount, on the Opportunity too.
 */
import { salesforceWrite, shopWrite } from '../commands.ts';
import { known, wants, type EntityMapping } from '../entity.ts';
import { entityKey, externalIdOf, requiredKeyParts } from '../keys.ts';
import { fieldsMappedFrom, mergeMappings, readSalesforceImage, readShopRow, salesforceFields, shopColumns, type FieldMapping } from '../mapping.ts';
import { addMoney, multiplyMoney, normalizeMoney, normalizeMoneyOrNull } from '../money.ts';
import type { SalesforceReference, SalesforceWrite, ShopWrite } from '../types.ts';
import { date, int, requiredInt, requiredStr, str } from '../values.ts';
import type { OrderConfig } from './config.ts';
import { paymentSummary, type PaymentStatus } from './payments.ts';
import { emptyOrder, ORDER_KINDS as K, type Order, type OrderLine, type OrderPayment } from './record.ts';
import { clonePlain } from '../clone.ts';

/** The order's payment status -> the Opportunity's Payment_Status__c picklist value. */
export const PAYMENT_STATUS_VALUES: Record<PaymentStatus, string> = {
  unpaid: 'Unpaid', authorized: 'Authorized', partially_paid: 'Partially Paid', paid: 'Paid', overpaid: 'Overpaid', refunded: 'Refunded',
};

export const ORDER_FIELDS: FieldMapping[] = [
  { canonical: 'customerId', shop: 'customer_number', transform: 'none' },
  { canonical: 'status', shop: 'status', transform: 'none' },
  { canonical: 'currency', shop: 'currency', salesforce: 'Opportunity.Currency__c', transform: 'uppercase' },
  { canonical: 'subtotal', shop: 'subtotal_amount', transform: 'none' },
  { canonical: 'discountTotal', shop: 'discount_amount', transform: 'none' },
  { canonical: 'shippingTotal', shop: 'shipping_amount', transform: 'none' },
  { canonical: 'taxTotal', shop: 'tax_amount', transform: 'none' },
  { canonical: 'total', shop: 'total_amount', salesforce: 'Opportunity.Amount', transform: 'none' },
  { canonical: 'placedAt', shop: 'placed_at', salesforce: 'Opportunity.Ordered_At__c', transform: 'none' },
  { canonical: 'closeDate', salesforce: 'Opportunity.CloseDate', transform: 'none' },
  { canonical: 'paymentStatus', salesforce: 'Opportunity.Payment_Status__c', transform: 'none', valueMap: PAYMENT_STATUS_VALUES },
  { canonical: 'paidAmount', salesforce: 'Opportunity.Paid_Amount__c', transform: 'none' },
  { canonical: 'createdAt', shop: 'created_at', transform: 'none' },
  { canonical: 'updatedAt', shop: 'updated_at', transform: 'none' },
];

export interface OrderShopInput {
  order: Record<string, unknown>;
  /** Rows of order_lines for this order (when known); otherwise the previous record's lines are kept. */
  lines?: Record<string, unknown>[];
  /** Rows of payments for this order (when known); otherwise the previous record's payments are kept. */
  payments?: Record<string, unknown>[];
}
export interface OrderSalesforceInput {
  Opportunity: Record<string, unknown>;
  /** OpportunityLineItem images (when known); otherwise the previous record's lines are kept. */
  lineItems?: Record<string, unknown>[];
}

export function lineIdOf(orderNumber: string, lineNumber: number): string {
  return `${orderNumber}-${lineNumber}`;
}

export function lineFromRow(row: Record<string, unknown>, table = 'order_lines'): OrderLine {
  const orderNumber = requiredStr(`${table}.order_number`, row.order_number);
  const lineNumber = requiredInt(`${table}.line_number`, row.line_number);
  return {
    lineId: lineIdOf(orderNumber, lineNumber), lineNumber,
    sku: requiredStr(`${table}.sku`, row.sku), productName: str(`${table}.product_name`, row.product_name),
    quantity: requiredInt(`${table}.quantity`, row.quantity),
    unitPrice: normalizeMoney(row.unit_price), discount: normalizeMoneyOrNull(row.discount_amount),
    lineTotal: normalizeMoney(row.line_total),
  };
}

export function paymentFromRow(row: Record<string, unknown>, table = 'payments'): OrderPayment {
  const provider = requiredStr(`${table}.provider`, row.provider);
  return {
    paymentId: `${provider}|${requiredStr(`${table}.provider_transaction_id`, row.provider_transaction_id)}`,
    amount: normalizeMoney(row.amount), status: requiredStr(`${table}.status`, row.status),
  };
}

/** The order with its payment status and paid amount worked out from its payments and total. */
function withPaymentStatus(o: Order): Order {
  const s = paymentSummary(o.total ?? '0', o.payments);
  return { ...o, paymentStatus: s?.status ?? null, paidAmount: s?.paidAmount ?? null };
}

/** Applies one order_lines CDC event to a canonical order. */
export function applyLineRow(order: Order, row: Record<string, unknown>, deleted = false): Order {
  const line = lineFromRow(row);
  const lines = order.lines.filter((l) => l.lineId !== line.lineId);
  if (!deleted) lines.push(line);
  lines.sort((a, b) => a.lineNumber - b.lineNumber);
  return { ...order, lines };
}

export function createOrderMapping(cfg: OrderConfig, shopId: string): EntityMapping<Order, OrderShopInput, OrderSalesforceInput> {
  const mappings = mergeMappings(ORDER_FIELDS, cfg.fields);
  const [oppObj, lineObj] = cfg.salesforceObjects;
  const oppExt = cfg.externalIds[oppObj];
  const lineExt = lineObj ? cfg.externalIds[lineObj] : undefined;
  const [ordersTable, linesTable, paymentsTable] = cfg.shopTables;
  const stageOf = (status: string) => cfg.stageMap[status] ?? cfg.defaultStage;
  const lineExternalId = (orderNumber: string, lineNumber: number) => externalIdOf(shopId, orderNumber, String(lineNumber));

  function statusFromStage(stage: string | null, previous: Order | null | undefined): string {
    if (previous && (stage === null || stageOf(previous.status) === stage)) return previous.status;
    const match = Object.entries(cfg.stageMap).find(([, s]) => s === stage);
    return match ? match[0] : previous?.status ?? 'pending';
  }

  /** A line item's lookup of its Opportunity (on its deletes too: the sink deletes it before the Opportunity). */
  const opportunityRef = (o: Order): SalesforceReference =>
    ({ field: 'OpportunityId', relationshipName: 'Opportunity', sobject: oppObj, externalIdField: oppExt, externalId: externalIdOf(shopId, o.orderNumber) });

  function lineWrites(o: Order, ctx: Parameters<typeof salesforceWrite>[0], start: number): SalesforceWrite[] {
    if (!lineObj || !lineExt) return [];
    return o.lines.map((l, i) => salesforceWrite(ctx, 'UPSERT', start + i, {
      sobject: lineObj, externalIdField: lineExt, externalId: lineExternalId(o.orderNumber, l.lineNumber),
      fields: { Quantity: l.quantity, UnitPrice: l.unitPrice, Description: l.productName },
      decimalFields: ['UnitPrice'],
      references: [opportunityRef(o)],
      pricebookEntry: { field: 'PricebookEntryId', sku: l.sku, currency: o.currency, pricebook: cfg.pricebook },
      parentKeys: [entityKey(shopId, o.orderNumber), entityKey(shopId, l.sku)],
    }));
  }

  return {
    name: 'order',
    key: (o) => entityKey(shopId, o.orderNumber),

    fromShopRow({ order: row, lines, payments }, previous) {
      const orderNumber = requiredStr(`${ordersTable}.order_number`, row.order_number);
      const o: Order = previous ? clonePlain(previous) : emptyOrder(orderNumber);
      o.orderNumber = orderNumber;
      readShopRow(K, mappings, row, o, ordersTable);
      if (o.total === null) throw new Error(`${ordersTable}.total_amount: is required (order ${orderNumber})`);
      if ('placed_at' in row) o.closeDate = date(`${ordersTable}.placed_at`, o.placedAt);
      if (lines) o.lines = lines.map((l) => lineFromRow(l, linesTable)).sort((a, b) => a.lineNumber - b.lineNumber);
      if (payments) o.payments = payments.map((p) => paymentFromRow(p, paymentsTable)).sort((a, b) => a.paymentId.localeCompare(b.paymentId));
      return withPaymentStatus(o);
    },

    fromSalesforce({ Opportunity: opp, lineItems }, previous) {
      const [orderNumber] = requiredKeyParts(`${oppObj}.${oppExt}`, opp[oppExt], 1);
      const o: Order = previous ? clonePlain(previous) : emptyOrder(orderNumber!);
      o.orderNumber = orderNumber;
      readSalesforceImage(K, mappings, oppObj, opp, o);
      if ('StageName' in opp) o.status = statusFromStage(str(`${oppObj}.StageName`, opp.StageName), previous);
      if (lineItems && lineExt) {
        const before = new Map((previous?.lines ?? []).map((l) => [l.lineId, l]));
        o.lines = lineItems.map((img) => {
          const [lineOrder, lineNumber] = requiredKeyParts(`${lineObj}.${lineExt}`, img[lineExt], 2);
          const lineId = lineIdOf(lineOrder!, Number(lineNumber));
          const prev = before.get(lineId);
          const quantity = int(`${lineObj}.Quantity`, img.Quantity) ?? prev?.quantity ?? 0;
          const unitPrice = normalizeMoneyOrNull(img.UnitPrice) ?? prev?.unitPrice ?? '0.00';
          const discount = prev?.discount ?? null;
          const sameAmounts = prev && prev.quantity === quantity && prev.unitPrice === unitPrice;
          return {
            lineId, lineNumber: prev?.lineNumber ?? Number(lineNumber),
            sku: prev?.sku ?? str(`${lineObj}.ProductCode`, img.ProductCode) ?? '',
            productName: 'Description' in img ? str(`${lineObj}.Description`, img.Description) : prev?.productName ?? null,
            quantity, unitPrice, discount,
            lineTotal: sameAmounts ? prev.lineTotal : addMoney(multiplyMoney(unitPrice, quantity), discount ? `-${discount}` : '0'),
          };
        }).sort((a, b) => a.lineNumber - b.lineNumber);
      }
      return o;
    },

    knownFromShop({ lines, payments }, previous) {
      const fields = ['orderNumber', 'closeDate', ...fieldsMappedFrom(mappings, { shop: true })];
      if (lines) fields.push('lines');
      if (payments) fields.push('payments', 'paymentStatus', 'paidAmount');
      return known(previous, fields);
    },

    knownFromSalesforce({ lineItems }, previous) {
      const fields = ['orderNumber', 'status', ...fieldsMappedFrom(mappings, { objects: [oppObj] })];
      return known(previous, lineItems ? [...fields, 'lines'] : fields);
    },

    toSalesforce(o, ctx, op, opts) {
      const opp = { sobject: oppObj, externalIdField: oppExt, externalId: externalIdOf(shopId, o.orderNumber) };
      const accountRef = (): SalesforceReference[] =>
        [{ field: 'AccountId', relationshipName: 'Account', sobject: 'Account', externalIdField: 'Shop_Customer_Id__c', externalId: externalIdOf(shopId, o.customerId) }];
      // a delete carries its lookup too (when the deleted record still names its customer): the sink deletes the Opportunity before its Account
      if (op === 'DELETE') return [salesforceWrite(ctx, 'DELETE', 0, { ...opp, references: o.customerId ? accountRef() : [] })];
      // the Opportunity always carries all its fields: a write for a line alone may be the one that
      // creates it (its first write parked or dead-lettered), and it must not be created half empty
      const { fields, decimalFields } = salesforceFields(K, mappings, oppObj, o, undefined);
      fields.Name = `${cfg.namePrefix}${o.orderNumber}`;
      fields.StageName = stageOf(o.status);
      fields.CloseDate = o.closeDate ?? date('closeDate', o.placedAt ?? ctx.eventTime);
      fields.Order_Number__c = o.orderNumber;
      fields.Shop_Id__c = shopId;
      const customerKey = entityKey(shopId, o.customerId);
      const writes: SalesforceWrite[] = [salesforceWrite(ctx, 'UPSERT', 0, {
        ...opp, fields, decimalFields, parentKeys: [customerKey], references: accountRef(),
      })];
      if (wants(opts, 'lines')) {
        writes.push(...lineWrites(o, ctx, 1));
        const current = new Set(o.lines.map((l) => l.lineId));
        for (const gone of (opts?.previous?.lines ?? []).filter((l) => !current.has(l.lineId))) {
          if (lineObj && lineExt) {
            writes.push(salesforceWrite(ctx, 'DELETE', writes.length, {
              sobject: lineObj, externalIdField: lineExt, externalId: lineExternalId(o.orderNumber, gone.lineNumber), references: [opportunityRef(o)],
            }));
          }
        }
      }
      return writes;
    },

    toShop(o, ctx, op, opts) {
      const key = { shop_id: shopId, order_number: o.orderNumber };
      if (op === 'DELETE') return [shopWrite(ctx, 'DELETE', 0, { table: ordersTable, keyColumns: ['shop_id', 'order_number'], row: key })];
      const writes: ShopWrite[] = [shopWrite(ctx, 'UPSERT', 0, {
        table: ordersTable, keyColumns: ['shop_id', 'order_number'], parentKeys: [entityKey(shopId, o.customerId)],
        row: { ...key, ...shopColumns(K, mappings, o, opts?.fields) },
      })];
      if (linesTable && wants(opts, 'lines')) {
        const lineKey = ['shop_id', 'order_number', 'line_number'];
        for (const l of o.lines) {
          writes.push(shopWrite(ctx, 'UPSERT', writes.length, {
            table: linesTable, keyColumns: lineKey,
            row: { ...key, line_number: l.lineNumber, sku: l.sku, product_name: l.productName, quantity: l.quantity,
              unit_price: l.unitPrice, discount_amount: l.discount ?? '0.00', line_total: l.lineTotal, currency: o.currency },
          }));
        }
        const current = new Set(o.lines.map((l) => l.lineNumber));
        for (const gone of (opts?.previous?.lines ?? []).filter((l) => !current.has(l.lineNumber))) {
          writes.push(shopWrite(ctx, 'DELETE', writes.length, { table: linesTable, keyColumns: lineKey, row: { ...key, line_number: gone.lineNumber } }));
        }
      }
      return writes;
    },
  };
}
