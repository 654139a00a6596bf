/** How a canonical field's value is typed; decides how raw values are read, written and compared. */
export type FieldKind = 'string' | 'money' | 'int' | 'boolean' | 'timestamp' | 'date' | 'nested';

/**
 * The top-level fields of one entity's canonical record and their kinds. Reconcile compares and
 * masters records field by field at this level; `nested` fields (addresses, lines, members) compare whole.
 */
export type FieldKinds = Readonly<Record<string, FieldKind>>;

/** Bookkeeping fields: they differ between the two sides by nature and never count as a change. */
export const VOLATILE_FIELDS: readonly string[] = ['createdAt', 'updatedAt'];

/** Fields that can be mapped by configuration: the flat canonical fields, or `extra.<name>`. */
export function isMappableField(kinds: FieldKinds, field: string): boolean {
  if (/^extra\.[A-Za-z_][A-Za-z0-9_]*$/.test(field)) return true;
  const kind = kinds[field];
  return kind !== undefined && kind !== 'nested';
}

export function fieldKind(kinds: FieldKinds, field: string): FieldKind {
  return field.startsWith('extra.') ? 'string' : kinds[field] ?? 'string';
}
