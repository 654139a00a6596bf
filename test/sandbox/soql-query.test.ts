import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { OrgModel } from '../../src/sandbox/model/types.ts';
import { executeSoql, flattenRecord, parseSoql, SoqlError, type SoqlRecord } from '../../src/sandbox/soql/index.ts';

const model = JSON.parse(readFileSync(new URL('../../src/sandbox/model/org-model.json', import.meta.url), 'utf8')) as OrgModel;

const A1 = '001000000000001AAA';
const A2 = '001000000000002AAA';
const A3 = '001000000000003AAA';
const P1 = '01t000000000001AAA';
const P2 = '01t000000000002AAA';

const data: Record<string, SoqlRecord[]> = {
  Account: [
    { Id: A1, Name: 'Acme', Industry: 'Retail', Lifetime_Value__c: 1200.5, Shop_Customer_Id__c: 'c-1', IsDeleted: false, CreatedDate: '2026-01-10T08:00:00.000+0000' },
    { Id: A2, Name: "O'Brien & Sons", Industry: null, Lifetime_Value__c: 50, Shop_Customer_Id__c: 'c-2', IsDeleted: false, CreatedDate: '2026-01-09T23:59:59.000+0000' },
    { Id: A3, Name: 'Zeta_Corp', Industry: 'retail', Lifetime_Value__c: null, Shop_Customer_Id__c: 'c-3', IsDeleted: false, CreatedDate: '2025-12-01T00:00:00.000+0000' },
    { Id: '001000000000004AAA', Name: 'Gone Ltd', Industry: 'Retail', Lifetime_Value__c: 10, Shop_Customer_Id__c: 'c-4', IsDeleted: true, CreatedDate: '2026-01-01T00:00:00.000+0000' },
  ],
  Contact: [
    { Id: '003000000000001AAA', LastName: 'Ann', AccountId: A1, Birthdate: '1990-05-01', HasOptedOutOfEmail: false, IsDeleted: false },
    { Id: '003000000000002AAA', LastName: 'bob', AccountId: A1, Birthdate: '1985-12-24', HasOptedOutOfEmail: true, IsDeleted: false },
    { Id: '003000000000003AAA', LastName: 'Cid', AccountId: A2, Birthdate: null, HasOptedOutOfEmail: false, IsDeleted: false },
    { Id: '003000000000004AAA', LastName: 'Dee', AccountId: null, Birthdate: '2000-01-01', HasOptedOutOfEmail: false, IsDeleted: false },
  ],
  Product2: [
    { Id: P1, Name: 'Mug', Sku__c: 'SKU-1', IsDeleted: false },
    { Id: P2, Name: 'Cap', Sku__c: 'SKU-2', IsDeleted: false },
  ],
  Stock_Level__c: [
    { Id: 'a0A000000000001AAA', Product__c: P1, Warehouse__c: 'north', Quantity__c: 5, Stock_Key__c: 'SKU-1@north', IsDeleted: false },
    { Id: 'a0A000000000002AAA', Product__c: P2, Warehouse__c: 'north', Quantity__c: 0, Stock_Key__c: 'SKU-2@north', IsDeleted: false },
  ],
};

const context = {
  model,
  records: (name: string) => data[name] ?? [],
  includeDeleted: false,
  apiVersion: '60.0',
  now: () => new Date('2026-01-10T12:00:00Z'),
};

function names(soql: string, includeDeleted = false): unknown[] {
  return executeSoql(soql, { ...context, includeDeleted }).records.map((r) => r.Name ?? r.LastName);
}

describe('SOQL filters', () => {
  const cases: Array<[string, unknown[]]> = [
    ["SELECT Name FROM Account WHERE Name = 'acme'", ['Acme']],
    ["SELECT Name FROM Account WHERE Name != 'Acme' ORDER BY Name", ["O'Brien & Sons", 'Zeta_Corp']],
    ["SELECT Name FROM Account WHERE Name <> 'Acme' ORDER BY Name", ["O'Brien & Sons", 'Zeta_Corp']],
    ["SELECT Name FROM Account WHERE Name = 'O\\'Brien & Sons'", ["O'Brien & Sons"]],
    ['SELECT Name FROM Account WHERE Lifetime_Value__c > 100', ['Acme']],
    ['SELECT Name FROM Account WHERE Lifetime_Value__c <= 50', ["O'Brien & Sons"]],
    ['SELECT Name FROM Account WHERE Lifetime_Value__c >= 50 ORDER BY Name', ['Acme', "O'Brien & Sons"]],
    ['SELECT Name FROM Account WHERE Lifetime_Value__c < 1200.5', ["O'Brien & Sons"]],
    ['SELECT Name FROM Account WHERE Lifetime_Value__c = null', ['Zeta_Corp']],
    ['SELECT Name FROM Account WHERE Industry != null ORDER BY Name', ['Acme', 'Zeta_Corp']],
    ["SELECT Name FROM Account WHERE Industry != 'Retail'", ["O'Brien & Sons"]],
    ["SELECT Name FROM Account WHERE Shop_Customer_Id__c IN ('c-1', 'c-3', 'c-9') ORDER BY Name", ['Acme', 'Zeta_Corp']],
    ["SELECT Name FROM Account WHERE Shop_Customer_Id__c NOT IN ('c-1', 'c-3')", ["O'Brien & Sons"]],
    ["SELECT Name FROM Account WHERE Name LIKE 'a%'", ['Acme']],
    ["SELECT Name FROM Account WHERE Name LIKE '%\\_%'", ['Zeta_Corp']],
    ["SELECT Name FROM Account WHERE Name LIKE 'Ac_e'", ['Acme']],
    ["SELECT Name FROM Account WHERE Name LIKE '_c'", []],
    ["SELECT Name FROM Account WHERE Industry = 'Retail' AND Lifetime_Value__c > 100", ['Acme']],
    ["SELECT Name FROM Account WHERE Industry = null OR Lifetime_Value__c = null ORDER BY Name", ["O'Brien & Sons", 'Zeta_Corp']],
    ["SELECT Name FROM Account WHERE NOT (Name = 'Acme' OR Name = 'Zeta_Corp')", ["O'Brien & Sons"]],
    ["SELECT Name FROM Account WHERE (Industry = 'retail' OR Name LIKE 'O%') AND (NOT Lifetime_Value__c > 1000) ORDER BY Name", ["O'Brien & Sons", 'Zeta_Corp']],
    ["SELECT Name FROM Account WHERE Industry = 'Retail' AND Lifetime_Value__c > 100 AND Name != null", ['Acme']],
    ["SELECT Name FROM Account WHERE Name = 'Acme' OR Name = 'Zeta_Corp' OR Lifetime_Value__c = 50 ORDER BY Name", ['Acme', "O'Brien & Sons", 'Zeta_Corp']],
    ["SELECT Name FROM Account WHERE NOT Name LIKE '%corp%'", ['Acme', "O'Brien & Sons"]],
    [`SELECT Name FROM Account WHERE Id = '${A1.slice(0, 15)}'`, ['Acme']],
    [`SELECT Name FROM Account WHERE Id IN ('${A2}', '${A3}') ORDER BY Name DESC`, ['Zeta_Corp', "O'Brien & Sons"]],
    ['SELECT LastName FROM Contact WHERE HasOptedOutOfEmail = true', ['bob']],
    ['SELECT LastName FROM Contact WHERE HasOptedOutOfEmail = false AND AccountId != null ORDER BY LastName', ['Ann', 'Cid']],
    ['SELECT LastName FROM Contact WHERE Birthdate > 1989-12-31', ['Ann', 'Dee']],
    ['SELECT LastName FROM Contact WHERE Birthdate <= 1990-05-01 ORDER BY Birthdate', ['bob', 'Ann']],
    ['SELECT Name FROM Account WHERE CreatedDate >= 2026-01-09T23:59:59Z ORDER BY CreatedDate', ["O'Brien & Sons", 'Acme']],
    ['SELECT Name FROM Account WHERE CreatedDate > 2026-01-10T08:00:00+01:00', ['Acme']],
    ['SELECT Name FROM Account WHERE CreatedDate = TODAY', ['Acme']],
    ['SELECT Name FROM Account WHERE CreatedDate = YESTERDAY', ["O'Brien & Sons"]],
    ['SELECT Name FROM Account WHERE CreatedDate < TODAY ORDER BY Name', ["O'Brien & Sons", 'Zeta_Corp']],
    ['SELECT Name FROM Account WHERE CreatedDate = LAST_N_DAYS:1 ORDER BY Name', ['Acme', "O'Brien & Sons"]],
    ['SELECT Name FROM Account WHERE CreatedDate = LAST_N_DAYS:60 ORDER BY Name', ['Acme', "O'Brien & Sons", 'Zeta_Corp']],
    ["SELECT LastName FROM Contact WHERE Account.Name = 'Acme' ORDER BY LastName", ['Ann', 'bob']],
    ['SELECT LastName FROM Contact WHERE Account.Name = null', ['Dee']],
    ["select lastname from contact where account.industry = 'RETAIL' order by LASTNAME desc", ['bob', 'Ann']],
    ["SELECT c.LastName FROM Contact c WHERE c.Account.Name LIKE 'o%'", ['Cid']],
  ];
  for (const [soql, expected] of cases) {
    it(soql, () => assert.deepEqual(names(soql), expected));
  }
});

describe('SOQL ordering and paging', () => {
  const cases: Array<[string, unknown[]]> = [
    ['SELECT LastName FROM Contact ORDER BY LastName', ['Ann', 'bob', 'Cid', 'Dee']],
    ['SELECT LastName FROM Contact ORDER BY Birthdate', ['Cid', 'bob', 'Ann', 'Dee']],
    ['SELECT LastName FROM Contact ORDER BY Birthdate NULLS LAST', ['bob', 'Ann', 'Dee', 'Cid']],
    ['SELECT LastName FROM Contact ORDER BY Birthdate DESC', ['Cid', 'Dee', 'Ann', 'bob']],
    ['SELECT LastName FROM Contact ORDER BY Birthdate DESC NULLS LAST', ['Dee', 'Ann', 'bob', 'Cid']],
    ['SELECT LastName FROM Contact ORDER BY Birthdate DESC NULLS FIRST', ['Cid', 'Dee', 'Ann', 'bob']],
    ['SELECT LastName FROM Contact ORDER BY AccountId ASC NULLS LAST, LastName DESC', ['bob', 'Ann', 'Cid', 'Dee']],
    ['SELECT LastName FROM Contact ORDER BY Account.Name DESC NULLS LAST, LastName', ['Cid', 'Ann', 'bob', 'Dee']],
    ['SELECT LastName FROM Contact ORDER BY Account.Name DESC, LastName DESC', ['Dee', 'Cid', 'bob', 'Ann']],
    ['SELECT LastName FROM Contact ORDER BY LastName LIMIT 2', ['Ann', 'bob']],
    ['SELECT LastName FROM Contact ORDER BY LastName LIMIT 2 OFFSET 1', ['bob', 'Cid']],
    ['SELECT LastName FROM Contact ORDER BY LastName OFFSET 3', ['Dee']],
    ['SELECT LastName FROM Contact LIMIT 0', []],
  ];
  for (const [soql, expected] of cases) {
    it(soql, () => assert.deepEqual(names(soql), expected));
  }
});

describe('SOQL result shape', () => {
  it('returns canonical field names, attributes with the version url and nested parents', () => {
    const result = executeSoql("SELECT id, lastname, account.name, ACCOUNT.Industry FROM contact WHERE LastName IN ('Ann', 'Dee') ORDER BY LastName", context);
    assert.equal(result.totalSize, 2);
    assert.deepEqual(result.columns, ['Id', 'LastName', 'Account.Name', 'Account.Industry']);
    assert.deepEqual(result.records[0], {
      attributes: { type: 'Contact', url: '/services/data/v60.0/sobjects/Contact/003000000000001AAA' },
      Id: '003000000000001AAA',
      LastName: 'Ann',
      Account: { attributes: { type: 'Account', url: `/services/data/v60.0/sobjects/Account/${A1}` }, Name: 'Acme', Industry: 'Retail' },
    });
    assert.equal(result.records[1].Account, null);
    assert.deepEqual(flattenRecord(result.records[0], result.columns), { Id: '003000000000001AAA', LastName: 'Ann', 'Account.Name': 'Acme', 'Account.Industry': 'Retail' });
    assert.deepEqual(flattenRecord(result.records[1], result.columns), { Id: '003000000000004AAA', LastName: 'Dee', 'Account.Name': null, 'Account.Industry': null });
  });

  it('resolves custom relationships through relationshipName (Product__r)', () => {
    const result = executeSoql("SELECT Stock_Key__c, Product__r.Sku__c FROM Stock_Level__c WHERE Product__r.Name = 'Cap'", context);
    assert.deepEqual(result.records.map((r) => [r.Stock_Key__c, (r.Product__r as SoqlRecord).Sku__c]), [['SKU-2@north', 'SKU-2']]);
  });

  it('counts with COUNT() and COUNT(field)', () => {
    assert.deepEqual(executeSoql("SELECT COUNT() FROM Account WHERE Industry = 'Retail'", context), { totalSize: 2, records: [], columns: [] });
    const byField = executeSoql('SELECT COUNT(Birthdate) FROM Contact', context);
    assert.deepEqual(byField.records, [{ attributes: { type: 'AggregateResult' }, expr0: 3 }]);
    assert.equal(executeSoql('SELECT COUNT(Id) n FROM Contact', context).records[0].n, 4);
  });

  it('hides deleted records unless includeDeleted (queryAll)', () => {
    assert.deepEqual(names("SELECT Name FROM Account WHERE Name = 'Gone Ltd'"), []);
    assert.deepEqual(names("SELECT Name FROM Account WHERE Name = 'Gone Ltd'", true), ['Gone Ltd']);
    assert.equal(executeSoql('SELECT COUNT() FROM Account', { ...context, includeDeleted: true }).totalSize, 4);
    assert.deepEqual(names('SELECT Name FROM Account WHERE IsDeleted = true', true), ['Gone Ltd']);
  });

  it('parses once and executes many times', () => {
    const query = parseSoql("SELECT Name FROM Account WHERE Name = 'Acme'");
    assert.equal(executeSoql(query, context).totalSize, 1);
    assert.equal(executeSoql(query, context).totalSize, 1);
  });
});

describe('SOQL with an index lookup', () => {
  const lookups: string[] = [];
  const indexed = {
    ...context,
    lookup: (object: string, field: string, value: string) => {
      if (field !== 'Shop_Customer_Id__c' && field !== 'Id') return undefined;
      lookups.push(`${object}.${field}=${value}`);
      return (data[object] ?? []).filter((r) => !r.IsDeleted && String(r[field]).toLowerCase() === value.toLowerCase());
    },
  };
  const queries = [
    "SELECT Name FROM Account WHERE Shop_Customer_Id__c = 'C-1'",
    "SELECT Name FROM Account WHERE Shop_Customer_Id__c IN ('c-1', 'c-3', 'c-4') ORDER BY Name",
    "SELECT Name FROM Account WHERE Industry = 'Retail' AND Shop_Customer_Id__c IN ('c-1', 'c-3') AND Name LIKE 'z%'",
    `SELECT Name FROM Account WHERE Id = '${A2}'`,
    "SELECT Name FROM Account WHERE Shop_Customer_Id__c = 'c-1' OR Name = 'Zeta_Corp' ORDER BY Name",
    "SELECT Name FROM Account WHERE Industry = 'Retail' ORDER BY Name",
  ];
  for (const soql of queries) {
    it(`gives the same rows as a scan: ${soql}`, () => {
      assert.deepEqual(executeSoql(soql, indexed).records, executeSoql(soql, context).records);
    });
  }
  it('consults the index for = and IN on an indexed field only', () => {
    lookups.length = 0;
    executeSoql("SELECT Name FROM Account WHERE Industry = 'Retail' AND Shop_Customer_Id__c IN ('c-1', 'c-3')", indexed);
    executeSoql("SELECT Name FROM Account WHERE Shop_Customer_Id__c = 'c-1' OR Name = 'x'", indexed);
    executeSoql("SELECT Name FROM Account WHERE Shop_Customer_Id__c = 'c-1'", { ...indexed, includeDeleted: true });
    assert.deepEqual(lookups, ['Account.Shop_Customer_Id__c=c-1', 'Account.Shop_Customer_Id__c=c-3']);
  });
});

describe('SOQL errors', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['SELECT Name FROM Account WHERE', 'MALFORMED_QUERY', /ERROR at Row:1:Column:31\nunexpected token: <EOF>/],
    ['SELECT Name Account', 'MALFORMED_QUERY', /Column:13\nunexpected token: 'Account'/],
    ['SELECT Name FROM Account WHERE Name == 1', 'MALFORMED_QUERY', /Column:38\nunexpected token: '='/],
    ["SELECT Name FROM Account WHERE Name = 'open", 'MALFORMED_QUERY', /unterminated/],
    ['SELECT Name, FROM Account', 'MALFORMED_QUERY', /unexpected token: 'FROM'/],
    ['SELECT Name FROM Account LIMIT x', 'MALFORMED_QUERY', /unexpected token: 'x'/],
    ["SELECT Name FROM Account WHERE Name = 'a' EXTRA", 'MALFORMED_QUERY', /unexpected token: 'EXTRA'/],
    ["SELECT Name FROM Account WHERE Name = 'bad\\q'", 'MALFORMED_QUERY', /Illegal character sequence/],
    ["SELECT Name FROM Account WHERE Name = 'a' AND Industry = 'b' OR Industry = 'c'", 'MALFORMED_QUERY', /Column:62\nunexpected token: 'OR'/],
    ["SELECT Name FROM Account WHERE Name = 'a' OR Industry = 'b' AND Industry = 'c'", 'MALFORMED_QUERY', /unexpected token: 'AND'/],
    ["SELECT Name FROM Account WHERE Name = 'a' AND NOT (Industry = 'b')", 'MALFORMED_QUERY', /unexpected token: 'NOT'/],
    ["SELECT Name FROM Account WHERE (Name = 'a'", 'MALFORMED_QUERY', /unexpected token: <EOF>/],
    ['SELECT Name, COUNT() FROM Account', 'MALFORMED_QUERY', /Field must be grouped or aggregated: Name/],
    ['SELECT Nme FROM Account', 'INVALID_FIELD', /ERROR at Row:1:Column:8\nNo such column 'Nme' on entity 'Account'/],
    ['SELECT Name FROM Account ORDER BY Foo__c', 'INVALID_FIELD', /No such column 'Foo__c' on entity 'Account'/],
    ['SELECT Account.Nope FROM Contact', 'INVALID_FIELD', /No such column 'Nope' on entity 'Account'/],
    ['SELECT Acct.Name FROM Contact', 'INVALID_FIELD', /Didn't understand relationship 'Acct'/],
    ['SELECT Name FROM Account WHERE Name = 5', 'INVALID_FIELD', /must be of type string and should be enclosed in quotes/],
    ["SELECT Name FROM Account WHERE Lifetime_Value__c = '5'", 'INVALID_FIELD', /must be of type double and should not be enclosed in quotes/],
    ['SELECT Name FROM Account WHERE CreatedDate > 2026-01-01', 'INVALID_FIELD', /must be of type dateTime/],
    ["SELECT Name FROM Account WHERE Id = 'nope'", 'INVALID_QUERY_FILTER_OPERATOR', /invalid ID field: nope/],
    ['SELECT Name FROM Acount', 'INVALID_TYPE', /Column:18\nsObject type 'Acount' is not supported\./],
  ];
  for (const [soql, code, message] of cases) {
    it(`${code}: ${soql}`, () => {
      assert.throws(() => executeSoql(soql, context), (error: unknown) => {
        assert.ok(error instanceof SoqlError);
        assert.equal(error.errorCode, code);
        assert.match(error.message, message);
        assert.deepEqual(error.toJSON(), [{ errorCode: code, message: error.message }]);
        return true;
      });
    });
  }
});
