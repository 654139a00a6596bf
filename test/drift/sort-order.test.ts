/**
 * A drift check walks both sides in one key order: the shop's cursors sort with PostgreSQL's
 * COLLATE "C", the Salesforce records are sorted here (in memory, or in runs on disk past the buffer).
 * Both must agree on every key, or records would be reported missing that are not.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { sortItems } from '../../src/drift/external-sort.ts';
import { compareKeys } from '../../src/drift/key-order.ts';
import { getTestStack } from '../support/stack.ts';

// prefixes, the separator's neighbours, case, accents, BMP private use and astral characters
const PARTS: Array<[string, string]> = [
  ['A', 'Z'], ['A-B', 'A'], ['A', 'A'], ['a', 'A'], ['AB', ''], ['A.B', 'x'], ['Ä', 'A'], ['Z', 'A'], ['1', '2'], ['10', '1'],
  ['2', '1'], ['\uE000', 'A'], ['\u{1F600}', 'A'], ['\uFFFD', 'B'], ['A~', 'A'], ['A|', 'A'], ['', 'A'],
].filter(([a]) => !a.includes('|')) as Array<[string, string]>;

let db: pg.Client;
before(async () => {
  db = new pg.Client({ connectionString: (await getTestStack()).postgres.url });
  await db.connect();
});
after(async () => { await db?.end(); });

test('keys sort as PostgreSQL orders their parts with COLLATE "C"', async () => {
  const { rows } = await db.query<{ a: string; b: string }>(
    `SELECT a, b FROM unnest($1::text[], $2::text[]) AS t(a, b) ORDER BY a COLLATE "C", b COLLATE "C"`, [PARTS.map((p) => p[0]), PARTS.map((p) => p[1])]);
  const fromPostgres = rows.map((r) => `shop|${r.a}|${r.b}`);
  const here = PARTS.map(([a, b]) => `shop|${a}|${b}`).sort(compareKeys);
  assert.deepEqual(here, fromPostgres);
});

test('more items than the buffer are sorted through runs on disk, and the runs are removed when read', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sort-test-'));
  try {
    const keys = Array.from({ length: 1_000 }, (_, i) => `shop|${(i * 7919) % 1000}|${i % 3}`);
    async function* items() { for (const k of keys) yield { key: k, n: keys.indexOf(k) }; }
    const sorted = await sortItems(items(), { compare: (x, y) => compareKeys(x.key, y.key), bufferSize: 64, dir });
    assert.equal(sorted.runs, 16);
    assert.equal(readdirSync(dir).length, 1, 'one folder of runs while they are read');
    const out: string[] = [];
    for await (const item of sorted) out.push(item.key);
    assert.deepEqual(out, [...keys].sort(compareKeys));
    assert.equal(readdirSync(dir).length, 0, 'the runs are gone');
    const small = await sortItems(items(), { compare: (x, y) => compareKeys(x.key, y.key), bufferSize: 5_000, dir });
    assert.equal(small.runs, 0, 'fewer items than the buffer stay in memory');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
