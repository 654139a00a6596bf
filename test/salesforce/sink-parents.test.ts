import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SalesforceWrite } from '../../src/entities/types.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createSalesforceSink } from '../../src/salesforce/sink/index.ts';
import {
  SINK_DEFAULTS, account, eventually, lineItem, opportunity, priceEntry, product, startSinkHarness, statuses, write, type SinkHarness,
} from './sink-fixtures.ts';

describe('Salesforce sink: parents first, parking', () => {
  let h: SinkHarness;
  before(async () => {
    h = await startSinkHarness({ lingerMs: 20, parentTimeoutMs: 1500 }, { tuning: { parkedRetryMs: 60_000 } });
  });
  after(async () => { await h.cleanup(); });

  /**
   * The records a test stands on, written through the sink (so each test runs alone): products
   * SKU-A and SKU-B with prices, the Account `customer`, the Opportunity `order` and its lines.
   */
  async function anOrder(order: string, customer: string, lines: Array<[string, string]>): Promise<string> {
    const outcomes = await h.sink.write([
      product('SKU-A'), product('SKU-B'), priceEntry('SKU-A', '10.00'), priceEntry('SKU-B', '20.00'),
      account(customer), opportunity(order, customer), ...lines.map(([id, sku]) => lineItem(id, order, sku)),
    ]);
    assert.deepEqual(outcomes.filter((o) => o.status !== 'applied' && o.status !== 'skipped').map((o) => [o.command.externalId, o.status]), []);
    return (await h.conn.query<{ Id: string }>(`SELECT Id FROM Opportunity WHERE Shop_Order_Id__c = '${order}'`)).records[0]!.Id;
  }

  it('writes an Account, its Opportunity and 3 line items (children listed first) parents first in one flush', async () => {
    const batch = [
      lineItem('O1-1', 'O1', 'SKU-A', 1), lineItem('O1-2', 'O1', 'SKU-B', 2), lineItem('O1-3', 'O1', 'SKU-A', 3),
      priceEntry('SKU-A', '10.00'), priceEntry('SKU-B', '20.00'),
      opportunity('O1', 'CUST-1'), product('SKU-A'), product('SKU-B'), account('CUST-1'),
    ];
    const outcomes = await h.sink.write(batch);
    assert.deepEqual(statuses(outcomes), { applied: 9 });
    const opp = (await h.conn.query<{ Id: string; AccountId: string; Account: { Shop_Customer_Id__c: string } }>(
      "SELECT Id, AccountId, Account.Shop_Customer_Id__c FROM Opportunity WHERE Shop_Order_Id__c = 'O1'")).records[0]!;
    assert.equal(opp.Account.Shop_Customer_Id__c, 'CUST-1');
    const lines = (await h.conn.query<{ Shop_Line_Id__c: string; OpportunityId: string; PricebookEntry: { ProductCode: string } }>(
      "SELECT Shop_Line_Id__c, OpportunityId, PricebookEntry.ProductCode FROM OpportunityLineItem WHERE Opportunity.Shop_Order_Id__c = 'O1' ORDER BY Shop_Line_Id__c")).records;
    assert.deepEqual(lines.map((l) => [l.Shop_Line_Id__c, l.OpportunityId === opp.Id, l.PricebookEntry.ProductCode]),
      [['O1-1', true, 'SKU-A'], ['O1-2', true, 'SKU-B'], ['O1-3', true, 'SKU-A']]);
  });

  it('resolves price book entries with one query per flush and caches them', async () => {
    await anOrder('O-CACHE', 'CUST-CACHE', [['O-CACHE-1', 'SKU-A']]);
    h.t.sb.admin.resetCounters();
    const outcomes = await h.sink.write([lineItem('O-CACHE-2', 'O-CACHE', 'SKU-A'), lineItem('O-CACHE-3', 'O-CACHE', 'SKU-B')]);
    assert.deepEqual(statuses(outcomes), { applied: 2 });
    const counters = h.t.sb.admin.counters();
    assert.equal(counters.byApi.query ?? 0, 0, 'entries of SKU-A and SKU-B are cached from the first flush');
    assert.equal(counters.byApi.collections, 1);
  });

  it('updates an existing line item without its create-only lookups', async () => {
    await anOrder('O-UPD', 'CUST-UPD', [['O-UPD-1', 'SKU-A']]);
    const [o] = await h.sink.write([lineItem('O-UPD-1', 'O-UPD', 'SKU-A', 7)]);
    assert.equal(o!.status, 'applied');
    const line = (await h.conn.query<{ Quantity: number }>("SELECT Quantity FROM OpportunityLineItem WHERE Shop_Line_Id__c = 'O-UPD-1'")).records[0]!;
    assert.equal(line.Quantity, 7);
  });

  it('drops a create-only lookup and sends again when Salesforce refuses to update it', async () => {
    const oppId = await anOrder('O-LOOKUP', 'CUST-LOOKUP', [['O-LOOKUP-1', 'SKU-B']]);
    const other = createSalesforceSink({ conn: h.conn, config: { ...SINK_DEFAULTS, lingerMs: 10 }, logger: createLogger('sink-test', 'silent') });
    try {
      const cmd = write('UPSERT', { sobject: 'OpportunityLineItem', externalIdField: 'Shop_Line_Id__c', externalId: 'O-LOOKUP-1', fields: { OpportunityId: oppId, Quantity: 9 } });
      h.t.sb.admin.resetCounters();
      const [o] = await other.write([cmd]);
      assert.equal(o!.status, 'applied');
      assert.equal(h.calls().collections, 2, 'refused once with INVALID_FIELD_FOR_INSERT_UPDATE, then sent without OpportunityId');
    } finally {
      await other.close();
    }
    const line = (await h.conn.query<{ Quantity: number }>("SELECT Quantity FROM OpportunityLineItem WHERE Shop_Line_Id__c = 'O-LOOKUP-1'")).records[0]!;
    assert.equal(line.Quantity, 9);
  });

  it('parks a line item whose product does not exist yet, and writes it once the product lands', async () => {
    await anOrder('O1', 'CUST-1', []);
    const [parked] = await h.sink.write([lineItem('O1-6', 'O1', 'SKU-NEW')]);
    assert.equal(parked!.status, 'parked');
    assert.ok(parked!.status === 'parked');
    assert.deepEqual(parked.parent, { sobject: 'Product2', externalIdField: 'Sku__c', externalId: 'SKU-NEW', label: 'PricebookEntry for sku SKU-NEW (standard price book)' });
    assert.deepEqual(h.sink.parked().map((c) => c.externalId), ['O1-6']);
    const landed = await h.sink.write([product('SKU-NEW'), priceEntry('SKU-NEW', '5.00')]);
    assert.deepEqual(statuses(landed), { applied: 2 });
    await eventually(() => h.late.some((o) => o.command.externalId === 'O1-6'), 5000, 'the parked line item to land');
    const late = h.late.find((o) => o.command.externalId === 'O1-6')!;
    assert.equal(late.status, 'applied');
    assert.deepEqual(h.sink.parked(), []);
    const line = (await h.conn.query<{ PricebookEntry: { ProductCode: string } }>(
      "SELECT PricebookEntry.ProductCode FROM OpportunityLineItem WHERE Shop_Line_Id__c = 'O1-6'")).records[0]!;
    assert.equal(line.PricebookEntry.ProductCode, 'SKU-NEW');
  });

  it('parks an order whose customer arrives later, and writes it when the customer lands', async () => {
    const [o] = await h.sink.write([opportunity('O2', 'CUST-LATE')]);
    assert.ok(o!.status === 'parked');
    assert.deepEqual(o.parent, { sobject: 'Account', externalIdField: 'Shop_Customer_Id__c', externalId: 'CUST-LATE' });
    assert.equal(o.error.errorCode, 'INVALID_FIELD');
    await h.sink.write([account('CUST-LATE')]);
    await eventually(() => h.late.some((x) => x.command.externalId === 'O2'), 5000, 'the parked order to land');
    assert.equal(h.late.find((x) => x.command.externalId === 'O2')!.status, 'applied');
    assert.equal((await h.conn.query("SELECT Id FROM Opportunity WHERE Shop_Order_Id__c = 'O2' AND Account.Shop_Customer_Id__c = 'CUST-LATE'")).totalSize, 1);
  });

  it('lets go of a parked child its caller abandons (its partition went to another member): not written when its parent lands, no late outcome', async () => {
    const [o] = await h.sink.write([opportunity('O-GONE', 'CUST-GONE')]);
    assert.equal(o!.status, 'parked');
    assert.equal(h.sink.abandon(o!.command.commandId), true);
    assert.deepEqual(h.sink.parked(), []);
    assert.deepEqual(statuses(await h.sink.write([account('CUST-GONE')])), { applied: 1 });
    await h.sink.flush();
    assert.equal(h.late.some((x) => x.command.externalId === 'O-GONE'), false, 'no late outcome');
    assert.equal((await h.conn.query("SELECT Id FROM Opportunity WHERE Shop_Order_Id__c = 'O-GONE'")).totalSize, 0, 'the abandoned child was not written');
    assert.equal(h.sink.abandon(o!.command.commandId), false, 'nothing parked to let go a second time');
  });

  it('fails a child whose parent never comes after parentTimeoutMs, with the reason', async () => {
    const [o] = await h.sink.write([opportunity('O3', 'CUST-NEVER')]);
    assert.equal(o!.status, 'parked');
    await eventually(() => h.late.some((x) => x.command.externalId === 'O3'), 10_000, 'the parked order to time out');
    const late = h.late.find((x) => x.command.externalId === 'O3')!;
    assert.ok(late.status === 'failed');
    assert.match(late.reason, /^parent Account CUST-NEVER never arrived: not found after \d+ s$/);
    assert.deepEqual(h.sink.parked(), []);
    assert.equal((await h.conn.query("SELECT Id FROM Opportunity WHERE Shop_Order_Id__c = 'O3'")).totalSize, 0);
  });

  it('deletes by external id, children before parents, and skips records that are not there', async () => {
    await anOrder('O-DEL', 'CUST-DEL', [['O-DEL-1', 'SKU-A'], ['O-DEL-2', 'SKU-B']]);
    // the sink's calls, in order: when each delete call started and ended
    const calls: string[] = [];
    const conn = h.conn as unknown as { destroy(type: string, ids: string[], o: unknown): Promise<unknown> };
    const spy = Object.create(h.conn) as typeof conn;
    spy.destroy = async (type, ids, o) => {
      calls.push(`start ${type}`);
      try { return await conn.destroy(type, ids, o); } finally { calls.push(`end ${type}`); }
    };
    const sink = createSalesforceSink({ conn: spy as unknown as typeof h.conn, config: { ...SINK_DEFAULTS, lingerMs: 10 }, logger: createLogger('sink-test', 'silent') });
    // a delete as the entity mappings make it: no fields, its lookups kept (they name its parents)
    const del = (cmd: SalesforceWrite) => write('DELETE', { sobject: cmd.sobject, externalIdField: cmd.externalIdField, externalId: cmd.externalId, references: cmd.references });
    try {
      // parents listed first: the sink must still delete the line items before their own Opportunity, and it before its Account
      const outcomes = await sink.write([
        del(account('CUST-DEL')), del(opportunity('O-DEL', 'CUST-DEL')),
        del(lineItem('O-DEL-1', 'O-DEL', 'SKU-A')), del(lineItem('O-DEL-2', 'O-DEL', 'SKU-B')),
        del(account('NOBODY')),
      ]);
      assert.deepEqual(outcomes.map((o) => o.status), ['applied', 'applied', 'applied', 'applied', 'skipped']);
    } finally {
      await sink.close();
    }
    assert.deepEqual(calls, [
      'start OpportunityLineItem', 'end OpportunityLineItem', 'start Opportunity', 'end Opportunity', 'start Account', 'end Account',
    ], 'each level of deletes ends before its parents\' starts');
    assert.equal((await h.conn.query("SELECT Id FROM OpportunityLineItem WHERE Opportunity.Shop_Order_Id__c = 'O-DEL'")).totalSize, 0);
    assert.equal((await h.conn.query("SELECT Id FROM Opportunity WHERE Shop_Order_Id__c = 'O-DEL'")).totalSize, 0);
    assert.equal((await h.conn.query("SELECT Id FROM Account WHERE Shop_Customer_Id__c = 'CUST-DEL'")).totalSize, 0);
  });
});
