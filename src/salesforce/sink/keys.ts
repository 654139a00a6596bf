import type { SalesforceWrite } from '../../entities/types.ts';
import type { ParentRef } from './types.ts';

/** The record a command targets: object + external id field + value. */
export function recordKey(r: ParentRef): string {
  return `${r.sobject}\u0001${r.externalIdField}\u0001${r.externalId}`;
}

export function commandKey(cmd: SalesforceWrite): string {
  return recordKey(cmd);
}
