import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseBulkError, toCsv } from '../../src/salesforce/sink/bulk.ts';
import { classify, missingParent } from '../../src/salesforce/sink/errors.ts';
import { mergeCommands } from '../../src/salesforce/sink/merge.ts';
import { parentFirstLevels } from '../../src/salesforce/sink/order.ts';
import { upsertBody } from '../../src/salesforce/sink/records.ts';
import { createSalesforceSink } from '../../src/salesforce/sink/sink.ts';
import { createLogger } from '../../src/observability/logger.ts';
import type { Connection } from 'jsforce';
import { SINK_DEFAULTS, account, lineItem, opportunity, priceEntry, product, statuses, write } from './sink-fixtures.ts';

describe('Salesforce sink building blocks', () => {
  it('merges a later upsert over an earlier one, field by field; a delete replaces it', () => {
    const a = account('M1', { Phone: '1', BillingCity: 'a' });
    const b = account('M1', { BillingCity: 'b' });
    const merged = mergeCommands(a, b);
    assert.equal(merged.commandId, b.commandId);
    assert.deepEqual(merged.fields, { Name: 'Customer M1', Phone: '1', BillingCity: 'b' });
    const del = write('DELETE', { sobject: 'Account', externalIdField: 'Shop_Customer_Id__c', externalId: 'M1' });
    assert.equal(mergeCommands(merged, del), del);
  });

  it('orders objects parents first: Account/Product2, then Opportunity/PricebookEntry, then line items', () => {
    const cmds = [lineItem('L1', 'O1', 'S1'), priceEntry('S1', '1.00'), opportunity('O1', 'C1'), product('S1'), account('C1')];
    const levels = parentFirstLevels(cmds, (c) => c).map((l) => l.map((c) => c.sobject).sort());
    assert.deepEqual(levels, [['Account', 'Product2'], ['Opportunity', 'PricebookEntry'], ['OpportunityLineItem']]);
  });

  it('builds upsert bodies with external-id lookups and decimals as numbers', () => {
    const body = upsertBody(lineItem('L1', 'O1', 'S1', 2), '01uXXXXXXXXXXXXAAA');
    assert.deepEqual(body, {
      Quantity: 2, UnitPrice: 10, Description: 'line L1',
      Opportunity: { Shop_Order_Id__c: 'O1' }, PricebookEntryId: '01uXXXXXXXXXXXXAAA', Shop_Line_Id__c: 'L1',
    });
  });

  it('writes Bulk API CSV with nested lookups flattened, #N/A for null and blank for absent', () => {
    const csv = toCsv([{ Name: 'a', Phone: null, Account: { Ext__c: 'x' } }, { Name: 'b,c', Website: 'w' }]);
    assert.equal(csv, 'Name,Phone,Account.Ext__c,Website\na,#N/A,x,\n"b,c",,,w\n');
  });

  it('reads a Bulk API error column into code, message and fields', () => {
    assert.deepEqual(parseBulkError('REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --'),
      { errorCode: 'REQUIRED_FIELD_MISSING', message: 'Required fields are missing: [Name]', fields: ['Name'] });
  });

  it('classifies errors: transient, quota, parent missing, permanent', () => {
    const e = (errorCode: string, message = '') => ({ errorCode, message, fields: [] });
    assert.equal(classify(e('UNABLE_TO_LOCK_ROW')), 'transient');
    assert.equal(classify(e('SERVER_UNAVAILABLE')), 'transient');
    assert.equal(classify(e('ECONNRESET')), 'transient');
    assert.equal(classify(e('REQUEST_LIMIT_EXCEEDED')), 'quota');
    // the org's 25 long requests at once, not the daily quota: it passes as they end
    assert.equal(classify(e('REQUEST_LIMIT_EXCEEDED', 'ConcurrentPerOrgLongTxn Limit exceeded: 25 long-running requests are in progress')), 'transient');
    assert.equal(classify(e('INVALID_CROSS_REFERENCE_KEY')), 'parent-missing');
    assert.equal(classify(e('INVALID_FIELD', 'Foreign key external ID: C9 not found for field Shop_Customer_Id__c in entity Account')), 'parent-missing');
    for (const code of ['REQUIRED_FIELD_MISSING', 'STRING_TOO_LONG', 'DUPLICATE_VALUE', 'FIELD_CUSTOM_VALIDATION_EXCEPTION']) {
      assert.equal(classify(e(code)), 'permanent', code);
    }
    // the org's set-up, not the record: the stage pauses instead of dead-lettering (src/kafka/stage-pause.ts)
    for (const code of ['INVALID_FIELD', 'INVALID_FIELD_FOR_INSERT_UPDATE', 'INSUFFICIENT_ACCESS_OR_READONLY']) {
      assert.equal(classify(e(code)), 'infrastructure', code);
    }
  });

  it('names the missing parent from the foreign key message', () => {
    const cmd = opportunity('O9', 'C9');
    assert.deepEqual(missingParent(cmd, { errorCode: 'INVALID_FIELD', message: 'Foreign key external ID: C9 not found for field Shop_Customer_Id__c in entity Account', fields: ['AccountId'] }),
      { sobject: 'Account', externalIdField: 'Shop_Customer_Id__c', externalId: 'C9' });
  });

  it('splits a call refused as a whole until the one bad record is found, and writes the others', async () => {
    let calls = 0;
    // a stand-in for an org that rejects a whole collection when one record cannot be read (JSON_PARSER_ERROR)
    const conn = {
      limitInfo: {},
      upsert: async (_type: string, records: Array<Record<string, unknown>>) => {
        calls += 1;
        if (records.some((r) => r.Phone === 'bad')) throw Object.assign(new Error('Cannot deserialize instance of phone'), { errorCode: 'JSON_PARSER_ERROR' });
        return records.map((_, i) => ({ id: `001000000000${String(calls * 100 + i).padStart(3, '0')}AAA`, success: true, errors: [], created: true }));
      },
    } as unknown as Connection;
    const sink = createSalesforceSink({ conn, config: { ...SINK_DEFAULTS, lingerMs: 5 }, logger: createLogger('sink-test', 'silent') });
    try {
      const outcomes = await sink.write(Array.from({ length: 8 }, (_, i) => account(`J${i}`, { Phone: i === 5 ? 'bad' : '1' })));
      assert.deepEqual(statuses(outcomes), { applied: 7, failed: 1 });
      const failed = outcomes[5]!;
      assert.ok(failed.status === 'failed');
      assert.equal(failed.error.errorCode, 'JSON_PARSER_ERROR');
      assert.equal(calls, 7, '1 refused call of 8, then halves: 4+4 (one refused), 2+2 (one refused), 1+1');
    } finally {
      await sink.close();
    }
  });
});
