import type { Connection } from 'jsforce';
import type { ShopforceConfig } from '../config/schema.ts';
import { enabledEntities } from '../entities/index.ts';

/** One thing the org lacks for the sync, said so that an administrator knows what to change in Setup. */
export interface OrgGap {
  object: string;
  field?: string;
  problem: 'object-missing' | 'field-missing' | 'not-external-id' | 'not-unique' | 'cdc-off' | 'cannot-create' | 'cannot-update';
  message: string;
}

interface DescribedField { name: string; externalId?: boolean; unique?: boolean; createable?: boolean; updateable?: boolean }
interface Described { name: string; createable?: boolean; updateable?: boolean; fields: DescribedField[] }

/** What the enabled flows need of one Salesforce object. */
interface Need { object: string; externalIdField?: string; writes: boolean; flows: string[] }

/** Change event name of an sObject: Account → AccountChangeEvent, Foo__c → Foo__ChangeEvent. */
const changeEventName = (object: string) => (object.endsWith('__c') ? `${object.slice(0, -1)}ChangeEvent` : `${object}ChangeEvent`);

/** The objects of the enabled flows, their external id fields, and whether the sync writes to them (shop- or both-mastered flows). */
export function orgNeeds(config: ShopforceConfig): Need[] {
  const needs = new Map<string, Need>();
  for (const e of enabledEntities(config)) {
    const cfg = e.config as unknown as { salesforceObjects: string[]; externalIds: Record<string, string>; master: string };
    for (const object of cfg.salesforceObjects) {
      const need = needs.get(object) ?? { object, writes: false, flows: [] };
      need.externalIdField ??= cfg.externalIds[object];
      need.writes ||= cfg.master !== 'salesforce';
      need.flows.push(e.name);
      needs.set(object, need);
    }
  }
  return [...needs.values()];
}

/**
 * Checks a real org before the sync starts, by describe and one Tooling API query: each object of
 * the enabled flows exists; its external id field exists and is External ID and Unique (upserts by it
 * would otherwise fail or match several records); the object is selected for Change Data Capture
 * (PlatformEventChannelMember of the standard ChangeEvents channel); and, for the flows that write to
 * Salesforce, the connected user may create and update it and set its external id field.
 */
export async function checkOrg(conn: Connection, config: ShopforceConfig): Promise<OrgGap[]> {
  const gaps: OrgGap[] = [];
  const needs = orgNeeds(config);
  const members = await conn.tooling.query<{ SelectedEntity: string }>("SELECT SelectedEntity FROM PlatformEventChannelMember WHERE EventChannel = 'ChangeEvents'");
  const selected = new Set(members.records.map((r) => r.SelectedEntity.toLowerCase()));
  for (const need of needs) {
    const { object } = need;
    const used = `(flow ${need.flows.join(', ')})`;
    let described: Described;
    try {
      described = (await conn.sobject(object).describe()) as unknown as Described;
    } catch (err) {
      gaps.push({ object, problem: 'object-missing', message: `${object}: the object is not in the org or not visible to the connected user ${used}: ${(err as Error).message}` });
      continue;
    }
    if (!selected.has(changeEventName(object).toLowerCase())) {
      gaps.push({ object, problem: 'cdc-off', message: `${object}: Change Data Capture is not enabled; select ${object} in Setup > Change Data Capture ${used}` });
    }
    if (need.writes && described.createable === false) gaps.push({ object, problem: 'cannot-create', message: `${object}: the connected user cannot create ${object} records ${used}` });
    if (need.writes && described.updateable === false) gaps.push({ object, problem: 'cannot-update', message: `${object}: the connected user cannot update ${object} records ${used}` });
    if (!need.externalIdField) continue;
    const fieldName = need.externalIdField;
    const field = described.fields.find((f) => f.name.toLowerCase() === fieldName.toLowerCase());
    const at = `${object}.${fieldName}`;
    if (!field) {
      gaps.push({ object, field: fieldName, problem: 'field-missing', message: `${at}: the external id field does not exist or is not visible to the connected user ${used}` });
      continue;
    }
    if (!field.externalId) gaps.push({ object, field: fieldName, problem: 'not-external-id', message: `${at}: the field is not marked External ID; upserts by it are refused ${used}` });
    if (!field.unique) gaps.push({ object, field: fieldName, problem: 'not-unique', message: `${at}: the field is not Unique; two records could hold one key ${used}` });
    if (need.writes && field.createable === false) gaps.push({ object, field: fieldName, problem: 'cannot-create', message: `${at}: the connected user cannot set the field on create (field-level security) ${used}` });
    if (need.writes && field.updateable === false) gaps.push({ object, field: fieldName, problem: 'cannot-update', message: `${at}: the connected user cannot edit the field (field-level security) ${used}` });
  }
  return gaps;
}
