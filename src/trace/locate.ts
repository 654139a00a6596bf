/**
 * Which entity key a trace is about: given as the business key, or found from a Salesforce record
 * id or a shop row id the way the router keys that record's changes.
 */
import type { Connection } from 'jsforce';
import pg from 'pg';
import type { ShopforceConfig } from '../config/schema.ts';
import type { EnabledEntity } from '../entities/index.ts';
import { entityKey, KEY_SEPARATOR } from '../entities/keys.ts';
import type { PartSpec } from '../entities/parts.ts';

/** What the person gave: a business key (with or without the shop id), a Salesforce id, or a shop row. */
export type TraceRef = { key: string } | { salesforceId: string } | { shopRow: { table: string; id: string } };

/** The entity key of a business key: "1042" or "shop-1|1042" (parts joined by |). */
export function keyOf(config: ShopforceConfig, given: string): string {
  const prefix = `${config.shopId}${KEY_SEPARATOR}`;
  return given.startsWith(prefix) ? given : entityKey(config.shopId, ...given.split(KEY_SEPARATOR));
}

async function keyOfImage(spec: PartSpec, image: Record<string, unknown>, config: ShopforceConfig, parentKey: () => Promise<string | undefined>): Promise<string | undefined> {
  const parts = spec.key?.(image) ?? (spec.parentKey ? [await parentKey()].filter((v): v is string => !!v) : undefined);
  return parts?.length ? entityKey(config.shopId, ...parts) : undefined;
}

/** The key of a Salesforce record of one of the entity's objects (its id prefix tells which). */
export async function keyOfSalesforceRecord(config: ShopforceConfig, entity: EnabledEntity, conn: Connection, id: string): Promise<string> {
  for (const [object, spec] of Object.entries(entity.flow.salesforce)) {
    const prefix = (await conn.sobject(object).describe()).keyPrefix;
    if (!prefix || !id.startsWith(prefix)) continue;
    const record = await conn.sobject(object).retrieve(id).catch(() => undefined) as Record<string, unknown> | undefined;
    if (!record?.Id) throw new Error(`${object} ${id} is not in Salesforce (deleted?): trace it by its key`);
    const key = await keyOfImage(spec, record, config, async () => {
      const p = spec.parentKey!;
      const parent = await conn.sobject(p.object).retrieve(String(record[p.viaField])) as Record<string, unknown>;
      return parent?.[p.keyField] === null || parent?.[p.keyField] === undefined ? undefined : String(parent[p.keyField]);
    });
    if (!key) throw new Error(`${object} ${id} has no key for ${entity.name} (its external id is empty)`);
    return key;
  }
  throw new Error(`${id} is not the id of a ${Object.keys(entity.flow.salesforce).join(' or ')} record`);
}

/** The key of a shop row of one of the entity's tables. */
export async function keyOfShopRow(config: ShopforceConfig, entity: EnabledEntity, table: string, id: string): Promise<string> {
  const spec = entity.flow.shop[table];
  if (!spec) throw new Error(`${table} is not a table of ${entity.name} (${Object.keys(entity.flow.shop).join(', ')})`);
  const client = new pg.Client({ connectionString: config.shop.databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query(`SELECT * FROM ${client.escapeIdentifier(config.shop.schema)}.${client.escapeIdentifier(table)} WHERE id = $1`, [id]);
    if (!rows[0]) throw new Error(`${table} row ${id} is not in the shop (deleted?): trace it by its key`);
    const key = await keyOfImage(spec, rows[0], config, async () => undefined);
    if (!key) throw new Error(`${table} row ${id} has no key for ${entity.name}`);
    return key;
  } finally {
    await client.end();
  }
}
