import type { FieldDef, ObjectDef, OrgModel } from './types.ts';

export interface ObjectInfo {
  def: ObjectDef;
  fieldsByLower: Map<string, FieldDef>;
  /** relationshipName (lower case) → reference field, e.g. "account" → AccountId, "product__r" → Product__c */
  relationships: Map<string, FieldDef>;
  /** fields with externalId or unique: their values are indexed */
  indexedFields: FieldDef[];
}

/** Case-insensitive lookups over the org model (Salesforce API names are case-insensitive). */
export class ModelIndex {
  private readonly byLower = new Map<string, ObjectInfo>();
  private readonly byPrefix = new Map<string, ObjectInfo>();

  constructor(readonly model: OrgModel) {
    for (const def of model.objects) {
      const info: ObjectInfo = {
        def,
        fieldsByLower: new Map(def.fields.map((f) => [f.name.toLowerCase(), f])),
        relationships: new Map(
          def.fields.filter((f) => f.type === 'reference' && f.relationshipName)
            .map((f) => [f.relationshipName!.toLowerCase(), f]),
        ),
        indexedFields: def.fields.filter((f) => f.externalId || f.unique),
      };
      this.byLower.set(def.name.toLowerCase(), info);
      this.byPrefix.set(def.keyPrefix, info);
    }
  }

  object(name: string): ObjectInfo | undefined {
    return this.byLower.get(name.toLowerCase());
  }

  objectByPrefix(prefix: string): ObjectInfo | undefined {
    return this.byPrefix.get(prefix);
  }

  field(objectName: string, fieldName: string): FieldDef | undefined {
    return this.object(objectName)?.fieldsByLower.get(fieldName.toLowerCase());
  }
}
