import type { SalesforceWrite } from '../../entities/types.ts';

/**
 * `later` applied on top of `earlier` for the same record: an upsert merges its fields over the
 * earlier upsert's (last value wins per field); a delete, or an upsert after a delete, replaces it.
 */
export function mergeCommands(earlier: SalesforceWrite, later: SalesforceWrite): SalesforceWrite {
  if (later.operation === 'DELETE' || earlier.operation === 'DELETE') return later;
  const fields = { ...earlier.fields, ...later.fields };
  const decimals = new Set([...earlier.decimalFields.filter((f) => !(f in later.fields)), ...later.decimalFields]);
  const refs = new Map(earlier.references.map((r) => [r.field, r]));
  for (const r of later.references) refs.set(r.field, r);
  return {
    ...later,
    fields,
    decimalFields: [...decimals].filter((f) => f in fields),
    references: [...refs.values()],
    pricebookEntry: later.pricebookEntry ?? earlier.pricebookEntry,
    parentKeys: [...new Set([...earlier.parentKeys, ...later.parentKeys])],
    reassert: Boolean(earlier.reassert || later.reassert),
  };
}
