import { SfError } from './errors.ts';
import type { OrgStore, SfRecord } from './store.ts';

/**
 * What Salesforce computes or enforces for particular standard objects, applied to a record
 * about to be written (before: the stored version on update, undefined on create):
 * - Contact.Name from FirstName + LastName;
 * - Case.CaseNumber auto-number;
 * - PricebookEntry: Name/ProductCode from the product, a standard price before any other
 *   price book (STANDARD_PRICE_NOT_DEFINED), one entry per product and price book (DUPLICATE_VALUE);
 * - OpportunityLineItem: the price book entry found from Product2Id when not given, Product2Id
 *   and UnitPrice taken from the entry, TotalPrice = Quantity × UnitPrice.
 */
export function applyObjectRules(store: OrgStore, objectName: string, rec: SfRecord, before: SfRecord | undefined): void {
  switch (objectName) {
    case 'Contact':
      rec.Name = [rec.FirstName, rec.LastName].filter((v) => v !== null && v !== undefined && v !== '').join(' ') || null;
      break;
    case 'Case':
      if (!before) rec.CaseNumber = String(store.nextSeq()).padStart(8, '0');
      break;
    case 'PricebookEntry':
      if (!before) pricebookEntry(store, rec);
      break;
    case 'OpportunityLineItem':
      lineItem(store, rec, before);
      break;
  }
}

function live(store: OrgStore, object: string, id: unknown): SfRecord | undefined {
  if (typeof id !== 'string') return undefined;
  const rec = store.get(object, id);
  return rec && !rec.IsDeleted ? rec : undefined;
}

function standardBookId(store: OrgStore): string | undefined {
  for (const book of store.records('Pricebook2')) if (book.IsStandard === true && !book.IsDeleted) return book.Id as string;
  return undefined;
}

function entryFor(store: OrgStore, bookId: string, productId: string, except?: unknown): SfRecord | undefined {
  for (const e of store.records('PricebookEntry')) {
    if (!e.IsDeleted && e.Pricebook2Id === bookId && e.Product2Id === productId && e.Id !== except) return e;
  }
  return undefined;
}

function pricebookEntry(store: OrgStore, rec: SfRecord): void {
  const product = live(store, 'Product2', rec.Product2Id);
  if (product) {
    rec.Name = product.Name ?? null;
    rec.ProductCode = product.ProductCode ?? null;
  }
  const book = rec.Pricebook2Id as string;
  const productId = rec.Product2Id as string;
  if (!book || !productId) return;
  const standard = standardBookId(store);
  if (book !== standard && standard && !entryFor(store, standard, productId)) {
    throw new SfError('STANDARD_PRICE_NOT_DEFINED', 'No standard price defined for this product', []);
  }
  const existing = entryFor(store, book, productId, rec.Id);
  if (existing) {
    throw new SfError('DUPLICATE_VALUE', `This price definition already exists in this price book: ${existing.Id as string}`, []);
  }
}

function lineItem(store: OrgStore, rec: SfRecord, before: SfRecord | undefined): void {
  const opp = live(store, 'Opportunity', rec.OpportunityId);
  if (!before) {
    let entry = live(store, 'PricebookEntry', rec.PricebookEntryId);
    if (!entry && typeof rec.Product2Id === 'string') {
      const book = (opp?.Pricebook2Id as string | null) ?? standardBookId(store);
      entry = book ? entryFor(store, book, rec.Product2Id) : undefined;
      if (!entry) {
        throw new SfError('FIELD_INTEGRITY_EXCEPTION', 'field integrity exception: unknown (no price book entry for this product in the opportunity\'s price book)', ['Product2Id']);
      }
    }
    if (!entry) throw new SfError('REQUIRED_FIELD_MISSING', 'Required fields are missing: [PricebookEntryId]', ['PricebookEntryId']);
    if (opp?.Pricebook2Id && opp.Pricebook2Id !== entry.Pricebook2Id) {
      throw new SfError('FIELD_INTEGRITY_EXCEPTION', 'field integrity exception: PricebookEntryId (pricebook entry is in a different pricebook than the one assigned to the opportunity)', ['PricebookEntryId']);
    }
    rec.PricebookEntryId = entry.Id;
    rec.Product2Id = entry.Product2Id;
    if (rec.UnitPrice === null || rec.UnitPrice === undefined) rec.UnitPrice = entry.UnitPrice;
  }
  const qty = typeof rec.Quantity === 'number' ? rec.Quantity : null;
  const price = typeof rec.UnitPrice === 'number' ? rec.UnitPrice : null;
  if (qty !== null && price !== null) {
    const discount = typeof rec.Discount === 'number' ? rec.Discount : 0;
    rec.TotalPrice = Math.round(qty * price * (1 - discount / 100) * 100) / 100;
  }
}
