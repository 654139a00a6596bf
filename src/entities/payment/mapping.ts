/**
 * payment: shop payments -> Salesforce Payment__c, linked to the order's Opportunity (Opportunity__c by
 * its external id, so a payment whose Opportunity is not there yet waits in the sink). The external id
 * Provider_Transaction_Id__c is "<shop id>|<provider>|<provider transaction id>", the entity key: a
 * provider's transaction ids are unique only per provider, and two shops may share an org, so the same
 * payment event twice, or a provider's retry with the same id, upserts one record.
 */
import { salesforceWrite, shopWrite } from '../commands.ts';
import { known, type EntityMapping } from '../entity.ts';
import { entityKey, externalIdOf, parseKey } from '../keys.ts';
import { fieldsMappedFrom, mergeMappings, readSalesforceImage, readShopRow, salesforceFields, shopColumns, type FieldMapping } from '../mapping.ts';
import { requiredStr } from '../values.ts';
import type { PaymentConfig } from './config.ts';
import { emptyPayment, PAYMENT_KINDS as K, type Payment } from './record.ts';
import { clonePlain } from '../clone.ts';

export const PAYMENT_FIELDS: FieldMapping[] = [
  { canonical: 'providerTransactionId', shop: 'provider_transaction_id', transform: 'none' },
  { canonical: 'orderNumber', shop: 'order_number', transform: 'none' },
  { canonical: 'provider', shop: 'provider', salesforce: 'Payment__c.Provider__c', transform: 'none' },
  { canonical: 'method', shop: 'method', transform: 'none' },
  { canonical: 'amount', shop: 'amount', salesforce: 'Payment__c.Amount__c', transform: 'none' },
  { canonical: 'currency', shop: 'currency', salesforce: 'Payment__c.Currency__c', transform: 'uppercase' },
  {
    canonical: 'status', shop: 'status', salesforce: 'Payment__c.Status__c', transform: 'none',
    valueMap: { pending: 'Pending', authorized: 'Authorized', captured: 'Captured', failed: 'Failed', refunded: 'Refunded', voided: 'Voided' },
  },
  { canonical: 'capturedAt', shop: 'processed_at', salesforce: 'Payment__c.Paid_At__c', transform: 'none' },
  { canonical: 'updatedAt', shop: 'updated_at', transform: 'none' },
];

/** Provider and provider transaction id from a Payment__c external id of this shop ("<shop>|<provider>|<id>"); undefined otherwise. */
export function paymentOfExternalId(externalId: unknown): { shopId: string; provider: string; providerTransactionId: string } | undefined {
  if (typeof externalId !== 'string') return undefined;
  const { shopId, parts } = parseKey(externalId);
  if (parts.length !== 2 || !parts[0] || !parts[1]) return undefined;
  return { shopId, provider: parts[0], providerTransactionId: parts[1] };
}

export function createPaymentMapping(cfg: PaymentConfig, shopId: string): EntityMapping<Payment, Record<string, unknown>, Record<string, unknown>> {
  const mappings = mergeMappings(PAYMENT_FIELDS, cfg.fields);
  const [obj] = cfg.salesforceObjects;
  const ext = cfg.externalIds[obj];
  const [table] = cfg.shopTables;
  const key = (p: Payment) => entityKey(shopId, requiredStr('provider', p.provider), p.providerTransactionId);

  return {
    name: 'payment',
    key,

    fromShopRow(row, previous) {
      const txId = requiredStr(`${table}.provider_transaction_id`, row.provider_transaction_id);
      const p = previous ? clonePlain(previous) : emptyPayment(txId, null);
      readShopRow(K, mappings, row, p, table);
      requiredStr(`${table}.provider`, p.provider);
      requiredStr(`${table}.order_number`, p.orderNumber);
      return p;
    },

    fromSalesforce(image, previous) {
      const id = paymentOfExternalId(image[ext]);
      if (!id) requiredStr(`${obj}.${ext} as "<shop>|<provider>|<transaction id>"`, null);
      const p = previous ? clonePlain(previous) : emptyPayment(id!.providerTransactionId, id!.provider);
      p.providerTransactionId = id!.providerTransactionId;
      p.provider = id!.provider;
      readSalesforceImage(K, mappings, obj, image, p);
      return p;
    },

    knownFromShop: () => [],
    // the order is a lookup id there and the method is not kept: those come from the previous record
    knownFromSalesforce: (_image, previous) => known(previous, ['providerTransactionId', 'provider', ...fieldsMappedFrom(mappings, { objects: [obj] })]),

    toSalesforce(p, ctx, op) {
      const target = { sobject: obj, externalIdField: ext, externalId: key(p) };
      const opportunityRef = () => [{ field: 'Opportunity__c', relationshipName: 'Opportunity__r', sobject: 'Opportunity', externalIdField: cfg.orderExternalId, externalId: externalIdOf(shopId, p.orderNumber) }];
      // a delete keeps its lookup (when known): the sink deletes the payment before its Opportunity
      if (op === 'DELETE') return [salesforceWrite(ctx, 'DELETE', 0, { ...target, references: p.orderNumber ? opportunityRef() : [] })];
      // always every field: a write may be the one that creates the record (an earlier one parked or dead-lettered)
      const { fields, decimalFields } = salesforceFields(K, mappings, obj, p);
      return [salesforceWrite(ctx, 'UPSERT', 0, {
        ...target, fields: { ...fields, Shop_Id__c: shopId }, decimalFields,
        references: opportunityRef(),
        parentKeys: [entityKey(shopId, p.orderNumber)],
      })];
    },

    toShop(p, ctx, op, opts) {
      const keyColumns = ['shop_id', 'provider_transaction_id'];
      const row = { shop_id: shopId, provider_transaction_id: p.providerTransactionId };
      if (op === 'DELETE') return [shopWrite(ctx, 'DELETE', 0, { table, keyColumns, row })];
      return [shopWrite(ctx, 'UPSERT', 0, {
        table, keyColumns, parentKeys: [entityKey(shopId, p.orderNumber)], row: { ...row, ...shopColumns(K, mappings, p, opts?.fields) },
      })];
    },
  };
}
