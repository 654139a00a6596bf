import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILTIN_MODEL_PATH, loadOrgModel } from '../../src/sandbox/model/load.ts';
import { idSuffix, makeId, normalizeId } from '../../src/sandbox/store/ids.ts';
import { jwtConnection, startTestSandbox } from './sandbox-helpers.ts';

describe('org model file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sbx-model-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('has the synced objects with their key prefixes and external ids, plus system fields', () => {
    const model = loadOrgModel();
    const prefixes = Object.fromEntries(model.objects.map((o) => [o.name, o.keyPrefix]));
    assert.deepEqual(
      [prefixes.Account, prefixes.Contact, prefixes.Opportunity, prefixes.OpportunityLineItem, prefixes.Product2, prefixes.Pricebook2, prefixes.PricebookEntry, prefixes.Case, prefixes.Campaign, prefixes.CampaignMember],
      ['001', '003', '006', '00k', '01t', '01s', '01u', '500', '701', '00v'],
    );
    const ext = (o: string) => model.objects.find((x) => x.name === o)!.fields.filter((f) => f.externalId).map((f) => f.name);
    assert.deepEqual(ext('Account'), ['Shop_Customer_Id__c']);
    assert.deepEqual(ext('Opportunity'), ['Shop_Order_Id__c']);
    assert.deepEqual(ext('Payment__c'), ['Provider_Transaction_Id__c']);
    const stock = model.objects.find((o) => o.name === 'Stock_Level__c')!;
    for (const f of ['Id', 'Name', 'IsDeleted', 'CreatedDate', 'LastModifiedDate', 'SystemModstamp']) assert.ok(stock.fields.some((x) => x.name === f), f);
  });

  it('gives every number, currency and percent field a precision and scale (Amount and prices 18, 2)', () => {
    const file = join(dir, 'sizes.json');
    writeFileSync(file, JSON.stringify({ objects: [{ name: 'Account', fields: [{ name: 'Score__c', type: 'double' }] }] }));
    const model = loadOrgModel(file);
    const size = (o: string, f: string) => {
      const field = model.objects.find((x) => x.name === o)!.fields.find((x) => x.name === f)!;
      return [field.precision, field.scale];
    };
    assert.deepEqual(size('Opportunity', 'Amount'), [18, 2]);
    assert.deepEqual(size('OpportunityLineItem', 'UnitPrice'), [18, 2]);
    assert.deepEqual(size('OpportunityLineItem', 'Quantity'), [12, 2]);
    assert.deepEqual(size('PricebookEntry', 'UnitPrice'), [18, 2]);
    assert.deepEqual(size('Stock_Level__c', 'Quantity__c'), [18, 0]);
    assert.deepEqual(size('Account', 'Score__c'), [18, 0], 'a user field without them gets 18, 0');
    const raw = JSON.parse(readFileSync(BUILTIN_MODEL_PATH, 'utf8')) as { objects: Array<{ name: string; fields: Array<{ name: string; type: string; precision?: number; scale?: number }> }> };
    const undeclared = raw.objects.flatMap((o) => o.fields.filter((f) => ['double', 'currency', 'percent'].includes(f.type) && (f.precision === undefined || f.scale === undefined)).map((f) => `${o.name}.${f.name}`));
    assert.deepEqual(undeclared, [], 'the built-in model declares them for each numeric field');
  });

  it('merges a user file of extra fields and objects, usable over REST', async () => {
    const file = join(dir, 'extra.json');
    writeFileSync(file, JSON.stringify({ objects: [
      { name: 'Account', fields: [{ name: 'Loyalty_Tier__c', type: 'picklist', picklistValues: ['Gold', 'Silver'] }] },
      { name: 'Warehouse__c', label: 'Warehouse', keyPrefix: 'a0W', custom: true, fields: [{ name: 'Code__c', type: 'string', length: 10, externalId: true, unique: true }] },
    ] }));
    const t = await startTestSandbox({ modelFile: file });
    try {
      const conn = await jwtConnection(t.sb);
      const a = await conn.sobject('Account').create({ Name: 'Tiered', Loyalty_Tier__c: 'Gold' });
      assert.equal((await conn.sobject('Account').retrieve(a.id!)).Loyalty_Tier__c, 'Gold');
      const w = await conn.sobject('Warehouse__c').upsert({ Code__c: 'W-1', Name: 'Main' }, 'Code__c');
      assert.match(w.id!, /^a0W/);
    } finally {
      await t.cleanup();
    }
  });

  it('names the bad path of an invalid user file', () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ objects: [{ name: 'Account', fields: [{ name: 'Oops__c', type: 'varchar' }] }] }));
    assert.throws(() => loadOrgModel(file), (err: Error) => /bad\.json/.test(err.message) && /objects\[0\]\(Account\)\.fields\[0\]\(Oops__c\)\.type/.test(err.message));
    writeFileSync(file, JSON.stringify({ objects: [{ name: 'Thing__c', fields: [] }] }));
    assert.throws(() => loadOrgModel(file), /needs label and keyPrefix/);
  });
});

describe('record ids', () => {
  it('are 18 chars: 15 + the case-safe checksum Salesforce computes', () => {
    assert.equal(idSuffix('001A0000006Vm9r'), 'IAC');
    const id = makeId('003', 12345);
    assert.equal(id.length, 18);
    assert.equal(normalizeId(id.slice(0, 15)), id);
    assert.match(id.slice(0, 15), /[A-Z]/);
    assert.equal(normalizeId(id.slice(0, 15).toLowerCase() + id.slice(15)), undefined, 'a case-mangled id fails its checksum');
    assert.equal(normalizeId('001-bad'), undefined);
  });
});
