import type { FieldDef, ObjectDef } from '../model/types.ts';
import type { RestContext, RestHandler } from './context.ts';
import { objectOf } from './sobjects.ts';

const SOAP_TYPES: Record<string, string> = {
  id: 'tns:ID', reference: 'tns:ID', boolean: 'xsd:boolean', int: 'xsd:int', double: 'xsd:double', currency: 'xsd:double',
  percent: 'xsd:double', date: 'xsd:date', datetime: 'xsd:dateTime',
};

function plural(label: string): string {
  return /s$/.test(label) ? `${label}es` : /y$/.test(label) ? `${label.slice(0, -1)}ies` : `${label}s`;
}

function objectUrls(version: string, name: string) {
  const base = `/services/data/v${version}/sobjects/${name}`;
  return { sobject: base, describe: `${base}/describe`, rowTemplate: `${base}/{ID}` };
}

function describeField(def: ObjectDef, f: FieldDef) {
  const system = f.createable === false && f.updateable === false;
  const stringish = ['string', 'textarea', 'email', 'phone', 'url', 'picklist'].includes(f.type);
  const length = f.type === 'id' || f.type === 'reference' ? 18 : stringish ? f.length ?? 255 : 0;
  return {
    name: f.name,
    label: f.label ?? f.name,
    type: f.type,
    soapType: SOAP_TYPES[f.type] ?? 'xsd:string',
    length,
    byteLength: length * 3,
    precision: ['double', 'currency', 'percent'].includes(f.type) ? f.precision ?? 18 : 0,
    scale: ['double', 'currency', 'percent'].includes(f.type) ? f.scale ?? 0 : 0,
    digits: f.type === 'int' ? f.precision ?? 9 : 0,
    custom: f.name.endsWith('__c'),
    calculated: false,
    autoNumber: def.name === 'Case' && f.name === 'CaseNumber',
    externalId: f.externalId === true,
    idLookup: f.name === 'Id' || f.externalId === true || (f.name === 'Name' && stringish),
    unique: f.unique === true,
    caseSensitive: false,
    createable: f.createable !== false,
    updateable: f.updateable !== false,
    nillable: !f.required && f.type !== 'boolean' && f.name !== 'Id' && !system,
    defaultedOnCreate: system || f.type === 'boolean' || f.defaultValue !== undefined,
    defaultValue: f.defaultValue ?? null,
    nameField: f.name === 'Name',
    filterable: true,
    sortable: f.type !== 'textarea',
    groupable: !['textarea', 'double', 'currency', 'percent', 'datetime'].includes(f.type),
    aggregatable: true,
    htmlFormatted: false,
    restrictedPicklist: f.type === 'picklist' && !!f.picklistValues,
    picklistValues: (f.picklistValues ?? []).map((v) => ({ active: true, defaultValue: f.defaultValue === v, label: v, validFor: null, value: v })),
    referenceTo: f.referenceTo ?? [],
    relationshipName: f.relationshipName ?? null,
    relationshipOrder: null,
    cascadeDelete: false,
    polymorphicForeignKey: false,
    deprecatedAndHidden: false,
    permissionable: f.createable !== false && !f.required,
    inlineHelpText: null,
    writeRequiresMasterRead: false,
  };
}

function childRelationships(ctx: RestContext, def: ObjectDef) {
  const out = [];
  for (const child of ctx.deps.store.model.objects) {
    for (const f of child.fields) {
      if (f.type !== 'reference' || !f.referenceTo?.includes(def.name) || !f.relationshipName) continue;
      const relName = child.custom ? `${child.name.replace(/__c$/, '')}s__r` : plural(child.name);
      out.push({ cascadeDelete: false, childSObject: child.name, deprecatedAndHidden: false, field: f.name, junctionIdListNames: [], junctionReferenceTo: [], relationshipName: relName, restrictedDelete: false });
    }
  }
  return out;
}

function summary(ctx: RestContext, def: ObjectDef) {
  return {
    name: def.name, label: def.label, labelPlural: plural(def.label), keyPrefix: def.keyPrefix, custom: def.custom === true,
    customSetting: false, activateable: false, createable: true, updateable: true, deletable: true, undeletable: true,
    queryable: true, retrieveable: true, searchable: true, triggerable: true, replicateable: true, layoutable: true,
    mergeable: ['Account', 'Contact'].includes(def.name), feedEnabled: false, deprecatedAndHidden: false, hasSubtypes: false,
    isSubtype: false, isInterface: false, mruEnabled: true, urls: objectUrls(ctx.version, def.name),
  };
}

/** GET /sobjects */
export const describeGlobal: RestHandler = (ctx) => ({
  status: 200,
  body: { encoding: 'UTF-8', maxBatchSize: 200, sobjects: ctx.deps.store.model.objects.map((o) => summary(ctx, o)) },
});

/** GET /sobjects/T */
export const basicInfo: RestHandler = (ctx, { params }) => {
  const info = objectOf(ctx, params[0]!);
  return { status: 200, body: { objectDescribe: summary(ctx, info.def), recentItems: [] } };
};

/** GET /sobjects/T/describe */
export const describeObject: RestHandler = (ctx, { params }) => {
  const info = objectOf(ctx, params[0]!);
  const def = info.def;
  return {
    status: 200,
    body: {
      ...summary(ctx, def),
      fields: def.fields.map((f) => describeField(def, f)),
      childRelationships: childRelationships(ctx, def),
      recordTypeInfos: [],
      supportedScopes: [{ label: 'All', name: 'everything' }],
      compactLayoutable: true,
      searchLayoutable: true,
      networkScopeFieldName: null,
      namedLayoutInfos: [],
      actionOverrides: [],
      listviewable: null,
      lookupLayoutable: null,
      sobjectDescribeOption: 'FULL',
    },
  };
};
