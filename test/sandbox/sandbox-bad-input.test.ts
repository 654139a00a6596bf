import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Connection } from 'jsforce';
import { makeId } from '../../src/sandbox/store/ids.ts';
import { jwtConnection, rejectionOf, startTestSandbox, type TestSandbox } from './sandbox-helpers.ts';

describe('sandbox refuses bad input with Salesforce error codes and writes nothing', () => {
  let t: TestSandbox;
  let conn: Connection;
  const count = async (object: string) => (await conn.query(`SELECT COUNT() FROM ${object}`)).totalSize;

  before(async () => {
    t = await startTestSandbox();
    conn = await jwtConnection(t.sb);
    await conn.sobject('Product2').create({ Name: 'Existing', Sku__c: 'DUP-1' });
  });
  after(async () => { await t.cleanup(); });

  const cases: Array<{ name: string; object: string; body: Record<string, unknown>; code: string; field?: string }> = [
    { name: 'unknown field', object: 'Account', body: { Name: 'x', Favourite_Colour__c: 'red' }, code: 'INVALID_FIELD' },
    { name: 'text in a number field', object: 'Account', body: { Name: 'x', Lifetime_Value__c: 'lots' }, code: 'JSON_PARSER_ERROR' },
    { name: 'text in a boolean field', object: 'Product2', body: { Name: 'x', IsActive: 'maybe' }, code: 'JSON_PARSER_ERROR' },
    { name: 'bad date', object: 'Opportunity', body: { Name: 'x', StageName: 'Prospecting', CloseDate: 'next week' }, code: 'JSON_PARSER_ERROR' },
    { name: 'missing required field', object: 'Opportunity', body: { Name: 'x', StageName: 'Prospecting' }, code: 'REQUIRED_FIELD_MISSING', field: 'CloseDate' },
    { name: 'value too long', object: 'Account', body: { Name: 'x'.repeat(256) }, code: 'STRING_TOO_LONG', field: 'Name' },
    { name: 'bad restricted picklist value', object: 'Opportunity', body: { Name: 'x', StageName: 'Dreaming', CloseDate: '2026-01-31' }, code: 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', field: 'StageName' },
    { name: 'duplicate unique external id', object: 'Product2', body: { Name: 'Copy', Sku__c: 'dup-1' }, code: 'DUPLICATE_VALUE', field: 'Sku__c' },
    { name: 'malformed lookup id', object: 'Contact', body: { LastName: 'x', AccountId: 'not-an-id' }, code: 'MALFORMED_ID', field: 'AccountId' },
    { name: 'lookup to a record that does not exist', object: 'Contact', body: { LastName: 'x', AccountId: '001000000000000AAA' }, code: 'INVALID_CROSS_REFERENCE_KEY', field: 'AccountId' },
    { name: 'read-only field', object: 'Pricebook2', body: { Name: 'x', IsStandard: true }, code: 'INVALID_FIELD_FOR_INSERT_UPDATE', field: 'IsStandard' },
  ];

  for (const c of cases) {
    it(`${c.name} → ${c.code}`, async () => {
      const before = await count(c.object);
      const err = await rejectionOf(conn.sobject(c.object).create(c.body));
      assert.equal(err.errorCode, c.code, err.message);
      if (c.field) assert.deepEqual((err as { fields?: string[] }).fields ?? (err as any).data?.fields, [c.field]);
      assert.equal(await count(c.object), before);
    });
  }

  it('malformed JSON → 400 JSON_PARSER_ERROR', async () => {
    const before = await count('Account');
    const err = await rejectionOf(conn.request({ method: 'POST', url: '/services/data/v60.0/sobjects/Account', body: '{"Name": "half', headers: { 'content-type': 'application/json' } }));
    assert.equal(err.errorCode, 'JSON_PARSER_ERROR');
    assert.equal(await count('Account'), before);
  });

  it('bad record id → MALFORMED_ID; unknown id → NOT_FOUND', async () => {
    const bad = await rejectionOf(conn.sobject('Account').update({ Id: '001xyz', Name: 'x' }));
    assert.equal(bad.errorCode, 'MALFORMED_ID');
    const wrongChecksum = await rejectionOf(conn.sobject('Account').retrieve('0015g0000000001ZZZ'));
    assert.equal(wrongChecksum.errorCode, 'MALFORMED_ID');
    const missing = await rejectionOf(conn.sobject('Account').update({ Id: makeId('001', 987_654_321), Name: 'x' }));
    assert.equal(missing.errorCode, 'NOT_FOUND');
  });

  it('unknown object → NOT_FOUND over REST, INVALID_TYPE in SOQL', async () => {
    const err = await rejectionOf(conn.sobject('Spaceship__c').create({ Name: 'x' }));
    assert.equal(err.errorCode, 'NOT_FOUND');
    const q = await rejectionOf(conn.query('SELECT Id FROM Spaceship__c'));
    assert.equal(q.errorCode, 'INVALID_TYPE');
  });

  it('a bad row in a collection fails alone, with statusCode per record', async () => {
    const before = await count('Account');
    const res = await conn.sobject('Account').create([{ Name: 'ok' }, { Name: 'bad', Nope__c: 1 }, { Name: 'ok too' }]);
    assert.deepEqual(res.map((r) => r.success), [true, false, true]);
    assert.equal((res[1]!.errors[0] as unknown as { statusCode: string }).statusCode, 'INVALID_FIELD');
    assert.equal(await count('Account'), before + 2);
  });

  it('a bad SOQL query → MALFORMED_QUERY / INVALID_FIELD', async () => {
    const m = await rejectionOf(conn.query('SELECT FROM Account'));
    assert.equal(m.errorCode, 'MALFORMED_QUERY');
    const f = await rejectionOf(conn.query('SELECT Nope__c FROM Account'));
    assert.equal(f.errorCode, 'INVALID_FIELD');
  });
});
