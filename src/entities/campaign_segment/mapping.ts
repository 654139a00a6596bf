/**
 * campaign_segment: Salesforce Campaign (external id Shop_Segment_Id__c = the shop's segment code) and its
 * CampaignMembers -> shop customer_segments + segment_members. A member is a shop customer through its
 * Contact's Shop_Customer_Id__c (the router adds it to the member's image); a member without one (a lead,
 * a contact not from the shop) is not a segment member. Salesforce owns the segment: its members are
 * written to the shop (only those that changed), never to Salesforce.
 */
import { salesforceWrite, shopWrite } from '../commands.ts';
import { known, wants, type EntityMapping } from '../entity.ts';
import { entityKey, readExternalId } from '../keys.ts';
import { fieldsMappedFrom, mergeMappings, readSalesforceImage, readShopRow, salesforceFields, shopColumns, topField, type FieldMapping } from '../mapping.ts';
import { parentFieldName, type ParentKeyLookup } from '../parts.ts';
import type { ShopWrite } from '../types.ts';
import { requiredStr, str } from '../values.ts';
import type { CampaignSegmentConfig } from './config.ts';
import { CAMPAIGN_SEGMENT_KINDS as K, emptySegment, type CampaignSegment, type SegmentMember } from './record.ts';
import { clonePlain } from '../clone.ts';

export const CAMPAIGN_SEGMENT_FIELDS: FieldMapping[] = [
  { canonical: 'name', shop: 'name', salesforce: 'Campaign.Name', transform: 'none' },
  { canonical: 'description', shop: 'description', salesforce: 'Campaign.Description', transform: 'none' },
  { canonical: 'active', shop: 'active', salesforce: 'Campaign.IsActive', transform: 'none' },
  { canonical: 'updatedAt', shop: 'updated_at', transform: 'none' },
];

export interface SegmentShopInput {
  segment: Record<string, unknown>;
  /** segment_members rows of the segment (when known). */
  members?: Record<string, unknown>[];
}
export interface SegmentSalesforceInput {
  Campaign: Record<string, unknown>;
  /** CampaignMember images with their Contact's customer id (when known). */
  members?: Record<string, unknown>[];
}

/** The lookup that gives a member's shop customer: CampaignMember.ContactId -> Contact.<customer id>. */
export function memberCustomerLookup(cfg: CampaignSegmentConfig): ParentKeyLookup {
  return { viaField: 'ContactId', object: 'Contact', keyField: cfg.externalIds.Contact ?? 'Shop_Customer_Id__c' };
}

const byCustomer = (a: SegmentMember, b: SegmentMember) => (a.customerId < b.customerId ? -1 : a.customerId > b.customerId ? 1 : 0);

export function createCampaignSegmentMapping(cfg: CampaignSegmentConfig, shopId: string): EntityMapping<CampaignSegment, SegmentShopInput, SegmentSalesforceInput> {
  const mappings = mergeMappings(CAMPAIGN_SEGMENT_FIELDS, cfg.fields);
  const [campaignObj, memberObj] = cfg.salesforceObjects;
  const campaignExt = cfg.externalIds[campaignObj];
  const [segmentsTable, membersTable] = cfg.shopTables;
  const customerField = parentFieldName(memberCustomerLookup(cfg));
  const shopStatus = (status: string | null) => (status !== null && cfg.memberStatuses[status]) || 'member';
  /** A shop member status as the canonical (Salesforce) one: the member's own when it maps to it. */
  const statusFromShop = (value: string, before: SegmentMember | undefined) =>
    before && shopStatus(before.status) === value ? before.status : Object.entries(cfg.memberStatuses).find(([, s]) => s === value)?.[0] ?? null;

  function segmentWrites(s: CampaignSegment, ctx: Parameters<typeof shopWrite>[0], opts: Parameters<EntityMapping<CampaignSegment, unknown, unknown>['toShop']>[3]): ShopWrite[] {
    const key = { shop_id: shopId, segment_code: s.segmentId };
    const segmentFields = mappings.filter((m) => m.shop).map((m) => topField(m.canonical));
    const writes: ShopWrite[] = [];
    if (wants(opts, 'segmentId', ...segmentFields)) {
      writes.push(shopWrite(ctx, 'UPSERT', 0, { table: segmentsTable, keyColumns: ['shop_id', 'segment_code'], row: { ...key, ...shopColumns(K, mappings, s, opts?.fields) } }));
    }
    if (!membersTable || !wants(opts, 'members')) return writes;
    // the members the shop holds once our earlier writes land (the base before this change): only
    // what differs is written; without it (a first write, a re-assertion) every member is
    const base = opts?.base ? new Map(opts.base.members.map((m) => [m.customerId, m])) : undefined;
    const keyColumns = ['shop_id', 'segment_code', 'customer_number'];
    for (const m of s.members) {
      const was = base?.get(m.customerId);
      if (was && shopStatus(was.status) === shopStatus(m.status)) continue;
      writes.push(shopWrite(ctx, 'UPSERT', writes.length, { table: membersTable, keyColumns, row: { ...key, customer_number: m.customerId, member_status: shopStatus(m.status) } }));
    }
    const current = new Set(s.members.map((m) => m.customerId));
    const gone = new Set([...(opts?.base?.members ?? []), ...(opts?.previous?.members ?? [])].map((m) => m.customerId).filter((c) => !current.has(c)));
    for (const customerId of gone) writes.push(shopWrite(ctx, 'DELETE', writes.length, { table: membersTable, keyColumns, row: { ...key, customer_number: customerId } }));
    return writes;
  }

  return {
    name: 'campaign_segment',
    key: (s) => entityKey(shopId, s.segmentId),

    fromShopRow({ segment, members }, previous) {
      const segmentId = requiredStr(`${segmentsTable}.segment_code`, segment.segment_code);
      const s: CampaignSegment = previous ? clonePlain(previous) : emptySegment(segmentId);
      s.segmentId = segmentId;
      readShopRow(K, mappings, segment, s, segmentsTable);
      if (members) {
        const before = new Map((previous?.members ?? []).map((m) => [m.customerId, m]));
        s.members = members.map((row) => {
          const customerId = requiredStr(`${membersTable}.customer_number`, row.customer_number);
          return { customerId, status: statusFromShop(requiredStr(`${membersTable}.member_status`, row.member_status), before.get(customerId)) };
        }).sort(byCustomer);
      }
      return s;
    },

    fromSalesforce({ Campaign: campaign, members }, previous) {
      const segmentId = requiredStr(`${campaignObj}.${campaignExt}`, campaign[campaignExt]);
      const s: CampaignSegment = previous ? clonePlain(previous) : emptySegment(segmentId);
      s.segmentId = segmentId;
      readSalesforceImage(K, mappings, campaignObj, campaign, s);
      s.name ??= '';
      s.active ??= false;
      if (members) {
        const byId = new Map<string, SegmentMember>();
        for (const image of members) {
          // the Contact's "<shop>|<customer number>": members of another shop syncing into the same org
          // (or Contacts that are no shop's customers) are not this shop's segment members
          const customer = readExternalId(str(`${memberObj}.${customerField}`, image[customerField]));
          if (customer?.shopId === shopId && customer.parts.length === 1) {
            const customerId = customer.parts[0]!;
            byId.set(customerId, { customerId, status: str(`${memberObj}.Status`, image.Status) });
          }
        }
        s.members = [...byId.values()].sort(byCustomer);
      }
      return s;
    },

    knownFromShop({ members }, previous) {
      const fields = ['segmentId', ...fieldsMappedFrom(mappings, { shop: true })];
      return known(previous, members ? [...fields, 'members'] : fields);
    },

    knownFromSalesforce({ members }, previous) {
      const fields = ['segmentId', ...fieldsMappedFrom(mappings, { objects: [campaignObj] })];
      return known(previous, members ? [...fields, 'members'] : fields);
    },

    // Salesforce owns the segment: only a conflict accepted from the shop writes to it, and then the
    // Campaign's own fields (membership is made in Salesforce)
    toSalesforce(s, ctx, op, opts) {
      const target = { sobject: campaignObj, externalIdField: campaignExt, externalId: s.segmentId };
      if (op === 'DELETE') return [salesforceWrite(ctx, 'DELETE', 0, target)];
      const { fields, decimalFields } = salesforceFields(K, mappings, campaignObj, s, opts?.fields);
      fields.Name = s.name;
      return [salesforceWrite(ctx, 'UPSERT', 0, { ...target, fields, decimalFields })];
    },

    toShop(s, ctx, op, opts) {
      if (op === 'DELETE') {
        // its members go with it (segment_members references the segment ON DELETE CASCADE)
        return [shopWrite(ctx, 'DELETE', 0, { table: segmentsTable, keyColumns: ['shop_id', 'segment_code'], row: { shop_id: shopId, segment_code: s.segmentId } })];
      }
      return segmentWrites(s, ctx, opts);
    },
  };
}
