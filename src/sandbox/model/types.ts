/**
 * The emulated org's metadata: objects and fields with their Salesforce API names and types.
 * Loaded from a data file (src/sandbox/model/org-model.json, plus a user's extra file), so an
 * org's custom fields are added as data, not code.
 */
export type FieldType =
  | 'id' | 'string' | 'textarea' | 'email' | 'phone' | 'url' | 'picklist' | 'boolean'
  | 'int' | 'double' | 'currency' | 'percent' | 'date' | 'datetime' | 'reference';

export interface FieldDef {
  name: string;                 // API name, e.g. "Shop_Customer_Id__c"
  type: FieldType;
  label?: string;
  length?: number;              // string-ish max length (STRING_TOO_LONG beyond)
  precision?: number;           // numbers
  scale?: number;
  required?: boolean;           // REQUIRED_FIELD_MISSING on create when absent
  externalId?: boolean;
  unique?: boolean;
  picklistValues?: string[];    // restricted picklist
  referenceTo?: string[];       // for type "reference"
  relationshipName?: string;    // e.g. "Account" for AccountId, "Product__r" for Product__c
  createable?: boolean;         // default true (system fields false)
  updateable?: boolean;         // default true (system fields false)
  defaultValue?: string | number | boolean;
}

export interface ObjectDef {
  name: string;                 // e.g. "Account", "Stock_Level__c"
  label: string;
  keyPrefix: string;            // 3 chars, e.g. "001"
  custom?: boolean;
  fields: FieldDef[];           // system fields (Id, CreatedDate, ...) are added by the loader
}

export interface OrgModel {
  objects: ObjectDef[];
}
