/** A SOQL string literal. */
export function soqlString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** Splits values into IN lists short enough for a GET URL. */
export function inChunks(values: string[], max = 200): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < values.length; i += max) out.push(values.slice(i, i + max));
  return out;
}

/** A field path of a query record (`Product2.Sku__c`). */
export function pathValue(rec: Record<string, unknown>, path: string): unknown {
  let cur: unknown = rec;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}
