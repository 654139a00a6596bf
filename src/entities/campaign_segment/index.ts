/**
 * campaign_segment: Salesforce Campaign + CampaignMember -> shop customer_segments + segment_members.
 * Its schema and configuration exist; its parts and mappings do not yet, so enabling it stops `run`
 * at start with what is missing.
 */
import { defineEntity } from '../definition.ts';
import { campaignSegmentConfig } from './config.ts';
import { CAMPAIGN_SEGMENT_KINDS } from './record.ts';

export const campaignSegment = defineEntity({
  name: 'campaign_segment',
  description: 'Salesforce Campaign + CampaignMember -> shop segments.',
  kinds: CAMPAIGN_SEGMENT_KINDS,
  config: campaignSegmentConfig,
  policy: () => ({ deactivateField: 'active' }),
});
