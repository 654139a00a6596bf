/**
 * customer: shop customers + addresses <-> Salesforce Account + Contact (external id Shop_Customer_Id__c =
 * "<shop>|<customer number>" on both, keys.ts).
 * Account.Name is the company, or "First Last" for a private customer; the Contact hangs under the Account.
 */
import { salesforceWrite, shopWrite } from '../commands.ts';
import { known, wants, type EntityMapping } from '../entity.ts';
import { entityKey, externalIdOf, requiredKeyParts } from '../keys.ts';
import { fieldsMappedFrom, mergeMappings, readSalesforceImage, readShopRow, salesforceFields, shopColumns, type FieldMapping } from '../mapping.ts';
import type { FieldValue, SalesforceWrite, ShopWrite } from '../types.ts';
import { bool, requiredStr, str } from '../values.ts';
import type { CustomerConfig } from './config.ts';
import { CUSTOMER_KINDS as K, emptyCustomer, type Address, type Customer } from './record.ts';
import { clonePlain } from '../clone.ts';

export const CUSTOMER_FIELDS: FieldMapping[] = [
  { canonical: 'email', shop: 'email', salesforce: 'Contact.Email', transform: 'lowercase' },
  { canonical: 'firstName', shop: 'first_name', salesforce: 'Contact.FirstName', transform: 'none' },
  { canonical: 'lastName', shop: 'last_name', salesforce: 'Contact.LastName', transform: 'none' },
  { canonical: 'phone', shop: 'phone', salesforce: 'Contact.Phone', transform: 'none' },
  { canonical: 'company', shop: 'company_name', transform: 'none' },
  { canonical: 'marketingOptIn', shop: 'marketing_opt_in', salesforce: 'Contact.HasOptedOutOfEmail', transform: 'negate' },
  { canonical: 'creditStatus', shop: 'credit_status', salesforce: 'Account.Credit_Status__c', transform: 'none',
    valueMap: { good: 'Good', hold: 'Hold', blocked: 'Blocked' } },
  { canonical: 'createdAt', shop: 'created_at', transform: 'none' },
  { canonical: 'updatedAt', shop: 'updated_at', transform: 'none' },
];

const ADDRESS_SF: Record<'billingAddress' | 'shippingAddress', { object: string; prefix: string }[]> = {
  billingAddress: [{ object: 'Account', prefix: 'Billing' }, { object: 'Contact', prefix: 'Mailing' }],
  shippingAddress: [{ object: 'Account', prefix: 'Shipping' }],
};

export interface CustomerShopInput {
  customer: Record<string, unknown>;
  /** Rows of the addresses table for this customer (when known). */
  addresses?: Record<string, unknown>[];
}
export interface CustomerSalesforceInput {
  Account?: Record<string, unknown> | null;
  Contact?: Record<string, unknown> | null;
}

/** The address of one addresses row, and which canonical field it fills (null when the row is not a default address). */
export function addressFromRow(row: Record<string, unknown>): { field: 'billingAddress' | 'shippingAddress'; address: Address } | null {
  const type = str('addresses.address_type', row.address_type);
  if (type !== 'billing' && type !== 'shipping') return null;
  if (bool('addresses.is_default', row.is_default) === false) return null;
  return {
    field: type === 'billing' ? 'billingAddress' : 'shippingAddress',
    address: {
      line1: str('addresses.line1', row.line1), line2: str('addresses.line2', row.line2), city: str('addresses.city', row.city),
      postalCode: str('addresses.postal_code', row.postal_code), region: str('addresses.region', row.region),
      country: str('addresses.country', row.country)?.trim() ?? null,
    },
  };
}

/** Applies one addresses CDC event to a canonical customer (a deleted default address clears the field). */
export function applyAddressRow(customer: Customer, row: Record<string, unknown>, deleted = false): Customer {
  const a = addressFromRow(row);
  if (!a) return customer;
  return { ...customer, [a.field]: deleted ? null : a.address };
}

function streetOf(a: Address): string | null {
  const parts = [a.line1, a.line2].filter((p): p is string => !!p);
  return parts.length ? parts.join('\n') : null;
}

function addressFromSalesforce(image: Record<string, unknown>, prefix: string): Address | null {
  const street = str(`${prefix}Street`, image[`${prefix}Street`]);
  const [line1, ...rest] = street ? street.split(/\r?\n/) : [null];
  const a: Address = {
    line1: line1 ?? null, line2: rest.length ? rest.join('\n') : null,
    city: str(`${prefix}City`, image[`${prefix}City`]), postalCode: str(`${prefix}PostalCode`, image[`${prefix}PostalCode`]),
    region: str(`${prefix}State`, image[`${prefix}State`]), country: str(`${prefix}Country`, image[`${prefix}Country`]),
  };
  return Object.values(a).every((v) => v === null) ? null : a;
}

export function createCustomerMapping(cfg: CustomerConfig, shopId: string): EntityMapping<Customer, CustomerShopInput, CustomerSalesforceInput> {
  const mappings = mergeMappings(CUSTOMER_FIELDS, cfg.fields);
  const [accountObj, contactObj] = cfg.salesforceObjects;
  const accountExt = cfg.externalIds[accountObj];
  const contactExt = contactObj ? cfg.externalIds[contactObj] : undefined;
  const [customersTable, addressesTable] = cfg.shopTables;

  const accountName = (c: Customer) =>
    cfg.accountName === 'company-or-person' && c.company ? c.company : [c.firstName, c.lastName].filter(Boolean).join(' ');

  return {
    name: 'customer',
    key: (c) => entityKey(shopId, c.customerId),

    fromShopRow({ customer: row, addresses }, previous) {
      const customerId = requiredStr(`${customersTable}.customer_number`, row.customer_number);
      const c: Customer = previous ? clonePlain(previous) : emptyCustomer(customerId);
      c.customerId = customerId;
      readShopRow(K, mappings, row, c, customersTable);
      let out = c;
      for (const a of addresses ?? []) out = applyAddressRow(out, a);
      return out;
    },

    fromSalesforce({ Account: account, Contact: contact }, previous) {
      const [customerId] = account
        ? requiredKeyParts(`${accountObj}.${accountExt}`, account[accountExt], 1)
        : requiredKeyParts(`${contactObj}.${contactExt}`, contactExt ? contact?.[contactExt] : undefined, 1);
      const c: Customer = previous ? clonePlain(previous) : emptyCustomer(customerId);
      c.customerId = customerId;
      if (contact) readSalesforceImage(K, mappings, contactObj, contact, c);
      if (account) {
        readSalesforceImage(K, mappings, accountObj, account, c);
        // Account.Name is the company or the person: telling which needs the person's name (Contact or previous).
        const name = str(`${accountObj}.Name`, account.Name);
        const person = [c.firstName, c.lastName].filter(Boolean).join(' ');
        if (name !== null && (contact || previous)) c.company = name === person ? null : name;
        if ('BillingStreet' in account || 'BillingCity' in account) c.billingAddress = addressFromSalesforce(account, 'Billing');
        if ('ShippingStreet' in account || 'ShippingCity' in account) c.shippingAddress = addressFromSalesforce(account, 'Shipping');
      }
      return c;
    },

    knownFromShop({ addresses }, previous) {
      const fields = ['customerId', ...fieldsMappedFrom(mappings, { shop: true })];
      return known(previous, addresses ? [...fields, 'billingAddress', 'shippingAddress'] : fields);
    },

    knownFromSalesforce({ Account: account, Contact: contact }, previous) {
      const objects = [...(account ? [accountObj] : []), ...(contact ? [contactObj] : [])];
      const fields = ['customerId', ...fieldsMappedFrom(mappings, { objects })];
      const fromAccount = account ? ['billingAddress', 'shippingAddress', ...(contact ? ['company'] : [])] : [];
      return known(previous, [...fields, ...fromAccount]);
    },

    toSalesforce(c, ctx, op, opts) {
      const parentKeys: string[] = [];
      const externalId = externalIdOf(shopId, c.customerId);
      const account = { sobject: accountObj, externalIdField: accountExt, externalId, parentKeys };
      const contact = contactObj && contactExt
        ? { sobject: contactObj, externalIdField: contactExt, externalId, parentKeys } : null;
      const accountRef = [{ field: 'AccountId', relationshipName: 'Account', sobject: accountObj, externalIdField: accountExt, externalId }];
      if (op === 'DELETE') {
        // the Contact's lookup tells the sink to delete it before its Account
        return [...(contact ? [salesforceWrite(ctx, 'DELETE', 0, { ...contact, references: accountRef })] : []), salesforceWrite(ctx, 'DELETE', 1, account)];
      }
      const writes: SalesforceWrite[] = [];
      const acc = salesforceFields(K, mappings, accountObj, c, opts?.fields);
      acc.fields.Name = accountName(c);
      acc.fields.Shop_Id__c = shopId;
      if (wants(opts, 'billingAddress')) addAddress(acc.fields, 'Billing', c.billingAddress);
      if (wants(opts, 'shippingAddress')) addAddress(acc.fields, 'Shipping', c.shippingAddress);
      writes.push(salesforceWrite(ctx, 'UPSERT', 0, { ...account, ...acc }));
      if (contact) {
        const con = salesforceFields(K, mappings, contactObj, c, opts?.fields);
        con.fields.LastName = c.lastName;
        con.fields.Shop_Id__c = shopId;
        if (wants(opts, 'billingAddress') && ADDRESS_SF.billingAddress.some((x) => x.object === contactObj)) addAddress(con.fields, 'Mailing', c.billingAddress);
        writes.push(salesforceWrite(ctx, 'UPSERT', 1, { ...contact, ...con, references: accountRef }));
      }
      return writes;
    },

    toShop(c, ctx, op, opts) {
      const key = { shop_id: shopId, customer_number: c.customerId };
      if (op === 'DELETE') return [shopWrite(ctx, 'DELETE', 0, { table: customersTable, keyColumns: ['shop_id', 'customer_number'], row: key })];
      const writes: ShopWrite[] = [shopWrite(ctx, 'UPSERT', 0, {
        table: customersTable, keyColumns: ['shop_id', 'customer_number'],
        row: { ...key, ...shopColumns(K, mappings, c, opts?.fields) },
      })];
      if (addressesTable) {
        for (const field of ['billingAddress', 'shippingAddress'] as const) {
          if (!wants(opts, field) || !c[field]) continue;
          const a = c[field] as Address;
          writes.push(shopWrite(ctx, 'UPSERT', writes.length, {
            table: addressesTable, keyColumns: ['shop_id', 'customer_number', 'address_type', 'label'],
            row: {
              ...key, address_type: field === 'billingAddress' ? 'billing' : 'shipping', label: 'default', is_default: true,
              line1: a.line1, line2: a.line2, city: a.city, region: a.region, postal_code: a.postalCode, country: a.country,
            },
          }));
        }
      }
      return writes;
    },
  };
}

function addAddress(fields: Record<string, FieldValue>, prefix: string, a: Address | null): void {
  fields[`${prefix}Street`] = a ? streetOf(a) : null;
  fields[`${prefix}City`] = a?.city ?? null;
  fields[`${prefix}PostalCode`] = a?.postalCode ?? null;
  fields[`${prefix}State`] = a?.region ?? null;
  fields[`${prefix}Country`] = a?.country ?? null;
}
