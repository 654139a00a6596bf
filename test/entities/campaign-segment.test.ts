import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CampaignSegment } from '../../src/entities/campaign_segment/record.ts';
import { createCampaignSegmentMapping } from '../../src/entities/campaign_segment/mapping.ts';
import { ctx, entities } from './helpers.ts';

const mapping = createCampaignSegmentMapping(entities.campaign_segment, 'shop-1');
const campaign = { Id: '701000000000001AAA', Name: 'Spring sale', Description: 'Loyal buyers', IsActive: true, Shop_Segment_Id__c: 'SPRING' };
const member = (customer: string | null, status = 'Sent', shop = 'shop-1') => ({ 'ContactId.Shop_Customer_Id__c': customer && `${shop}|${customer}`, Status: status });

test('a Campaign and its members become one segment; a member that is no shop customer (a lead) or another shop\'s is left out', () => {
  const s = mapping.fromSalesforce({ Campaign: campaign, members: [member('C-3', 'Responded'), member(null), member('C-1'), member('C-4', 'Sent', 'shop-2'), member('C-2', 'Opened')] });
  assert.deepEqual(s, {
    segmentId: 'SPRING', name: 'Spring sale', description: 'Loyal buyers', active: true, updatedAt: null, extra: {},
    members: [{ customerId: 'C-1', status: 'Sent' }, { customerId: 'C-2', status: 'Opened' }, { customerId: 'C-3', status: 'Responded' }],
  });
  assert.equal(mapping.key(s), 'shop-1|SPRING');
  assert.deepEqual(mapping.knownFromSalesforce({ Campaign: campaign }, null), ['active', 'description', 'name', 'segmentId'], 'no members known: not compared');
});

test('written to the shop: the segment row, then each member with its status mapped (an unmapped one is "member")', () => {
  const s = mapping.fromSalesforce({ Campaign: campaign, members: [member('C-1'), member('C-2', 'Opened')] });
  const writes = mapping.toShop(s, ctx, 'UPSERT', { base: null });
  assert.deepEqual(writes.map((w) => [w.operation, w.table, w.row]), [
    ['UPSERT', 'customer_segments', { shop_id: 'shop-1', segment_code: 'SPRING', name: 'Spring sale', description: 'Loyal buyers', active: true }],
    ['UPSERT', 'segment_members', { shop_id: 'shop-1', segment_code: 'SPRING', customer_number: 'C-1', member_status: 'sent' }],
    ['UPSERT', 'segment_members', { shop_id: 'shop-1', segment_code: 'SPRING', customer_number: 'C-2', member_status: 'member' }],
  ]);
  // the shop's rows read back as the same segment (the status the shop cannot hold is kept)
  const rows = writes.slice(1).map((w) => ({ ...w.row, id: 1 }));
  assert.deepEqual(mapping.fromShopRow({ segment: { ...writes[0]!.row, id: 9 }, members: rows }, s), s);
});

test('a change of thousands of members writes only what differs from what the shop holds: added, changed, removed', () => {
  const members = Array.from({ length: 5_000 }, (_, i) => ({ customerId: `C-${String(i).padStart(5, '0')}`, status: 'Sent' }));
  const before: CampaignSegment = { segmentId: 'SPRING', name: 'Spring sale', description: null, active: true, members, updatedAt: null, extra: {} };
  const after: CampaignSegment = {
    ...before,
    members: [...members.filter((m) => m.customerId !== 'C-00010').map((m) => (m.customerId === 'C-00020' ? { ...m, status: 'Responded' } : m)), { customerId: 'C-99999', status: 'Sent' }],
  };
  const writes = mapping.toShop(after, ctx, 'UPSERT', { fields: new Set(['members']), base: before, previous: before });
  assert.deepEqual(writes.map((w) => `${w.operation} ${w.table} ${w.row.customer_number} ${w.row.member_status ?? ''}`.trim()), [
    'UPSERT segment_members C-00020 responded', 'UPSERT segment_members C-99999 sent', 'DELETE segment_members C-00010',
  ]);
  // a re-assertion (the shop changed on its own) writes every member
  const reasserted = mapping.toShop(after, ctx, 'UPSERT', { fields: new Set(['members']), previous: before });
  assert.deepEqual([reasserted.filter((w) => w.operation === 'UPSERT').length, reasserted.filter((w) => w.operation === 'DELETE').map((w) => w.row.customer_number)], [5_000, ['C-00010']]);
  // a member the shop shows but the base never had (added there by a person) is removed too
  const extra = { ...before, members: [...members, { customerId: 'C-77777', status: null }] };
  assert.deepEqual(mapping.toShop(before, ctx, 'UPSERT', { fields: new Set(['members']), base: before, previous: extra }).map((w) => `${w.operation} ${w.row.customer_number}`), ['DELETE C-77777']);
});

test('a deleted Campaign deletes the segment row (its members go with it)', () => {
  const s = mapping.fromSalesforce({ Campaign: campaign, members: [member('C-1')] });
  assert.deepEqual(mapping.toShop(s, ctx, 'DELETE').map((w) => [w.operation, w.table, w.row]), [['DELETE', 'customer_segments', { shop_id: 'shop-1', segment_code: 'SPRING' }]]);
});
