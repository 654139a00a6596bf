/** The canonical campaign segment (schemas/campaign_segment.avsc). */
import type { FieldKinds } from '../fields.ts';
import type { Extra } from '../types.ts';

export interface SegmentMember { customerId: string; status: string | null }

export interface CampaignSegment {
  segmentId: string;
  name: string;
  description: string | null;
  active: boolean;
  members: SegmentMember[];
  updatedAt: number | null;
  extra: Extra;
}

export const CAMPAIGN_SEGMENT_KINDS: FieldKinds = {
  segmentId: 'string', name: 'string', description: 'string', active: 'boolean', members: 'nested',
  updatedAt: 'timestamp',
};

export function emptySegment(segmentId: string): CampaignSegment {
  return { segmentId, name: '', description: null, active: true, members: [], updatedAt: null, extra: {} };
}
