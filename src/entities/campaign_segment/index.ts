/**
 * campaign_segment: Salesforce Campaign (external id Shop_Segment_Id__c) + CampaignMember -> shop
 * customer_segments + segment_members, owned by Salesforce. A member's segment is its Campaign's code
 * (CampaignId -> Campaign.Shop_Segment_Id__c) and its customer its Contact's (ContactId ->
 * Contact.Shop_Customer_Id__c), both looked up by the router for a whole chunk at once. A Campaign
 * without a segment code is not a shop segment: it and its members are left alone. Thousands of member
 * changes are gathered and decided together (gatherMs); the reconciler keeps of each member only its
 * customer and status.
 */
import { defineEntity } from '../definition.ts';
import { mergeMappings } from '../mapping.ts';
import { keyedBy, list, one, parentFieldName, single } from '../parts.ts';
import { campaignSegmentConfig } from './config.ts';
import { CAMPAIGN_SEGMENT_FIELDS, createCampaignSegmentMapping, memberCustomerLookup } from './mapping.ts';
import { CAMPAIGN_SEGMENT_KINDS } from './record.ts';

export const campaignSegment = defineEntity({
  name: 'campaign_segment',
  description: 'Salesforce Campaign + CampaignMember -> shop customer_segments + segment_members.',
  kinds: CAMPAIGN_SEGMENT_KINDS,
  config: campaignSegmentConfig,
  fieldMappings: (cfg) => mergeMappings(CAMPAIGN_SEGMENT_FIELDS, cfg.fields),
  flow(cfg) {
    const [segments, members] = cfg.shopTables;
    const [campaign, member] = cfg.salesforceObjects;
    const codeField = cfg.externalIds[campaign!]!;
    const customer = memberCustomerLookup(cfg);
    return {
      entity: 'campaign_segment',
      shop: {
        [segments!]: { as: 'segment', many: false, ...keyedBy('segment_code') },
        ...(members ? { [members]: { as: 'members', many: true, ...keyedBy('segment_code'), fields: ['customer_number', 'member_status'] } } : {}),
      },
      salesforce: {
        [campaign!]: { as: 'Campaign', many: false, key: one(codeField), keyOptional: true },
        ...(member ? {
          [member]: {
            as: 'members', many: true, field: 'members', keyOptional: true,
            parentKey: { viaField: 'CampaignId', object: campaign!, keyField: codeField },
            parentFields: [customer], fields: [parentFieldName(customer), 'Status'],
          },
        } : {}),
      },
      shopInput: (p) => single(p, 'segment') && { segment: single(p, 'segment'), members: list(p, 'members') },
      salesforceInput: (p) => single(p, 'Campaign') && { Campaign: single(p, 'Campaign'), members: list(p, 'members') },
    };
  },
  mapping: (cfg, shopId) => createCampaignSegmentMapping(cfg, shopId),
  policy: (cfg) => ({ deactivateField: 'active', gatherMs: cfg.gatherMs }),
});
