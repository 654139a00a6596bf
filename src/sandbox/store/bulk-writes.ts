import type { BulkRow, BulkRowResult, IngestOperation } from '../bulk/deps.ts';
import { SfError } from './errors.ts';
import type { OrgStore, SfRecord } from './store.ts';

/** "Account.Shop_Customer_Id__c" columns become `{ Account: { Shop_Customer_Id__c: v } }`. */
function toBody(row: BulkRow): SfRecord {
  const body: SfRecord = {};
  for (const [key, value] of Object.entries(row)) {
    const dot = key.indexOf('.');
    if (dot > 0) body[key.slice(0, dot)] = { [key.slice(dot + 1)]: value };
    else body[key] = value;
  }
  return body;
}

function idOf(row: BulkRow): string {
  const entry = Object.entries(row).find(([k]) => k.toLowerCase() === 'id');
  const id = entry?.[1];
  if (!id) throw new SfError('MISSING_ARGUMENT', 'Id not specified in an update call', ['Id']);
  return id;
}

/**
 * Applies one Bulk API 2.0 batch as one transaction (one change event transaction), each row
 * on its own: failures are reported per row in failedResults form, the others commit.
 */
export function applyBulkRows(
  store: OrgStore,
  object: string,
  operation: IngestOperation,
  externalIdField: string | undefined,
  rows: BulkRow[],
  changeOrigin: string,
  call: { method?: string; path?: string } = {},
): BulkRowResult[] {
  const info = store.index.object(object);
  if (!info) throw new SfError('INVALID_TYPE', `sObject type '${object}' is not supported.`, [], 400);
  const uow = store.begin(changeOrigin, { api: 'bulk', ...call });
  const results: BulkRowResult[] = [];
  try {
    for (const row of rows) {
      try {
        const body = toBody(row);
        switch (operation) {
          case 'insert':
            results.push({ id: uow.create(info.def.name, body, { mode: 'text' }), created: true });
            break;
          case 'update': {
            const id = idOf(row);
            const rest = Object.fromEntries(Object.entries(body).filter(([k]) => k.toLowerCase() !== 'id'));
            uow.update(info.def.name, id, rest, { mode: 'text' });
            results.push({ id: store.get(info.def.name, id)?.Id as string, created: false });
            break;
          }
          case 'upsert': {
            const field = externalIdField ?? 'Id';
            const value = Object.entries(row).find(([k]) => k.toLowerCase() === field.toLowerCase())?.[1];
            const r = uow.upsert(info.def.name, field, value ?? null, body, { mode: 'text' });
            results.push({ id: r.id, created: r.created });
            break;
          }
          case 'delete':
          case 'hardDelete': {
            const id = idOf(row);
            uow.delete(info.def.name, id);
            results.push({ id: store.get(info.def.name, id)?.Id as string, created: false });
            break;
          }
        }
      } catch (err) {
        if (!(err instanceof SfError)) throw err;
        results.push({ error: err.toBulkError() });
      }
    }
    uow.commit();
  } catch (err) {
    uow.rollback();
    throw err;
  }
  return results;
}
