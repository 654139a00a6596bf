import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSupportTicketMapping } from '../../src/entities/support_ticket/mapping.ts';
import { asStored, ctx, entities } from './helpers.ts';

const mapping = createSupportTicketMapping(entities.support_ticket, 'shop-1');
const row = {
  id: 7, shop_id: 'shop-1', ticket_number: 'T-0000042', customer_number: 'C-1001', order_number: '1042', subject: 'Mug arrived broken',
  description: 'The handle came off.', status: 'resolved', priority: 'urgent', channel: 'chat',
  opened_at: '2026-11-27T06:00:00Z', resolved_at: null, created_at: '2026-11-27T06:00:00Z', updated_at: '2026-11-27T06:00:01Z', version: 1,
};

test('a ticket becomes one Case: text, picklist values through the value maps, linked to the Contact, the Account and the order', () => {
  const t = mapping.fromShopRow(row);
  const [w, ...rest] = mapping.toSalesforce(t, ctx, 'UPSERT');
  assert.equal(rest.length, 0);
  assert.equal(w!.sobject, 'Case');
  assert.deepEqual([w!.externalIdField, w!.externalId], ['Shop_Ticket_Id__c', 'shop-1|T-0000042']);
  assert.deepEqual(w!.fields, { Subject: 'Mug arrived broken', Description: 'The handle came off.', Status: 'Closed', Priority: 'High', Origin: 'Web' });
  assert.deepEqual(w!.references.map((r) => `${r.field} -> ${r.sobject}.${r.externalIdField}=${r.externalId}`), [
    'ContactId -> Contact.Shop_Customer_Id__c=shop-1|C-1001', 'AccountId -> Account.Shop_Customer_Id__c=shop-1|C-1001', 'Order__c -> Opportunity.Shop_Order_Id__c=shop-1|1042',
  ]);
  assert.deepEqual(w!.parentKeys, ['shop-1|C-1001', 'shop-1|1042']);
});

test('a ticket about no order leaves the Case unlinked from any Opportunity', () => {
  const [w] = mapping.toSalesforce(mapping.fromShopRow({ ...row, order_number: null }), ctx, 'UPSERT');
  assert.equal(w!.fields.Order__c, null);
  assert.deepEqual(w!.references.map((r) => r.field), ['ContactId', 'AccountId']);
});

test('the Case reads back as the same ticket: a Salesforce value several shop values share keeps the ticket\'s own', () => {
  const t = mapping.fromShopRow(row);
  const [w] = mapping.toSalesforce(t, ctx, 'UPSERT');
  const back = mapping.fromSalesforce({ ...asStored(w!), Id: '500000000000001AAA', CaseNumber: '00001000' }, t);
  assert.deepEqual(back, t, 'resolved -> Closed -> resolved, urgent -> High -> urgent, chat -> Web -> chat');
  assert.deepEqual(mapping.knownFromSalesforce({}, null), ['channel', 'description', 'priority', 'status', 'subject', 'ticketId'], 'customer and order are not compared: the Case holds ids');
  const closedByAgent = mapping.fromSalesforce({ ...asStored(w!), Status: 'Working' }, t);
  assert.equal(closedByAgent.status, 'open', 'a value of its own maps back to the first shop value with it');
});

test('the status coming back is a write of the status column alone', () => {
  const t = { ...mapping.fromShopRow(row), status: 'closed' };
  const writes = mapping.toShop(t, ctx, 'UPSERT', { fields: new Set(['status']) });
  assert.deepEqual(writes.map((w) => [w.table, w.keyColumns, w.row]), [['support_tickets', ['shop_id', 'ticket_number'], { shop_id: 'shop-1', ticket_number: 'T-0000042', status: 'closed' }]]);
});
