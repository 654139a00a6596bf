import type { OrgModel } from '../model/types.ts';
import { executeSoql, flattenRecord, type SoqlContext, type SoqlRecord } from '../soql/execute.ts';
import type { BulkQueryResult } from './deps.ts';

/**
 * The usual BulkDeps.query: runs SOQL over the store's records and flattens parent fields
 * ("Account.Name"), as Bulk API 2.0 CSV results show them. `lookup` (optional) lets equality
 * filters on indexed fields skip the full scan (see SoqlContext.lookup).
 */
export function makeBulkQuery(
  model: OrgModel,
  records: (objectName: string) => Iterable<SoqlRecord>,
  lookup?: SoqlContext['lookup'],
) {
  return (soql: string, includeDeleted: boolean, apiVersion: string): BulkQueryResult => {
    const result = executeSoql(soql, { model, records, includeDeleted, apiVersion, ...(lookup ? { lookup } : {}) });
    return { columns: result.columns, rows: result.records.map((record) => flattenRecord(record, result.columns)) };
  };
}
