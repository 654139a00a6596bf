/** entities.campaign_segment: Salesforce Campaign + CampaignMember -> shop customer_segments + segment_members. */
import { z } from 'zod';
import { entitySection } from '../config-section.ts';
import { CAMPAIGN_SEGMENT_KINDS } from './record.ts';

/** segment_members.member_status values (src/shop/migrations/007_segments.sql). */
const SHOP_MEMBER_STATUSES = ['member', 'sent', 'responded', 'opted_out'] as const;

export const campaignSegmentConfig = entitySection({
  entity: 'campaign_segment',
  kinds: CAMPAIGN_SEGMENT_KINDS,
  defaults: {
    shopTables: ['customer_segments', 'segment_members'], salesforceObjects: ['Campaign', 'CampaignMember'],
    // a member is a shop customer through its Contact's customer id
    externalIds: { Campaign: 'Shop_Segment_Id__c', Contact: 'Shop_Customer_Id__c' }, master: 'salesforce', deletePolicy: 'propagate',
  },
  options: {
    memberStatuses: z.record(z.string(), z.enum(SHOP_MEMBER_STATUSES)).default({ Sent: 'sent', Responded: 'responded' })
      .describe(`CampaignMember.Status -> segment_members.member_status (${SHOP_MEMBER_STATUSES.join(', ')}); any other status is "member".`),
    gatherMs: z.number().int().min(0).max(60_000).default(1_000)
      .describe('Member changes of one campaign are decided together, this long after the first (ms; 0 = each at once): a campaign of thousands of members arriving one change event each makes a handful of decisions.'),
  },
});

export type CampaignSegmentConfig = z.output<typeof campaignSegmentConfig>;
