import type { SalesforceWrite } from '../../entities/types.ts';

/**
 * Objects a command needs to exist first: its lookups, and the product / price book entry it resolves.
 * A DELETE keeps its lookups for this (no field of it is written): reversed, the levels delete children first.
 */
function parentObjects(cmd: SalesforceWrite): string[] {
  const out = cmd.references.map((r) => r.sobject);
  if (cmd.pricebookEntry) {
    out.push('Product2');
    if (cmd.sobject !== 'PricebookEntry') out.push('PricebookEntry');
  }
  return out.filter((o) => o !== cmd.sobject);
}

/**
 * Splits items into levels, parents first: an object's level is one more than the highest level of
 * the objects its commands depend on, among the objects present (Account → Contact, Opportunity →
 * OpportunityLineItem; Product2 → PricebookEntry → OpportunityLineItem). A dependency cycle is cut.
 */
export function parentFirstLevels<T>(items: T[], commandOf: (item: T) => SalesforceWrite): T[][] {
  const present = new Set(items.map((i) => commandOf(i).sobject));
  const deps = new Map<string, Set<string>>();
  for (const item of items) {
    const cmd = commandOf(item);
    const set = deps.get(cmd.sobject) ?? new Set<string>();
    for (const p of parentObjects(cmd)) if (present.has(p)) set.add(p);
    deps.set(cmd.sobject, set);
  }
  const levels = new Map<string, number>();
  const visiting = new Set<string>();
  const levelOf = (obj: string): number => {
    const known = levels.get(obj);
    if (known !== undefined) return known;
    if (visiting.has(obj)) return 0;
    visiting.add(obj);
    let level = 0;
    for (const p of deps.get(obj) ?? []) level = Math.max(level, levelOf(p) + 1);
    visiting.delete(obj);
    levels.set(obj, level);
    return level;
  };
  const out: T[][] = [];
  for (const item of items) {
    const level = levelOf(commandOf(item).sobject);
    (out[level] ??= []).push(item);
  }
  return out.filter((l) => l && l.length > 0);
}
