/** entities.campaign_segment: Salesforce Campaign + CampaignMember -> shop customer_segments + segment_members. */
import type { z } from 'zod';
import { entitySection } from '../config-section.ts';
import { CAMPAIGN_SEGMENT_KINDS } from './record.ts';

export const campaignSegmentConfig = entitySection({
  entity: 'campaign_segment',
  kinds: CAMPAIGN_SEGMENT_KINDS,
  defaults: {
    shopTables: ['customer_segments', 'segment_members'], salesforceObjects: ['Campaign', 'CampaignMember'],
    externalIds: { Campaign: 'Shop_Segment_Id__c' }, master: 'salesforce', deletePolicy: 'propagate',
  },
  options: {},
});

export type CampaignSegmentConfig = z.output<typeof campaignSegmentConfig>;
