import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
// @ts-expect-error: a plain ESM script of npm run bench, without types
import { figuresIn, figureTable, meetsGoal, mergeFigures, readFigures, withTable } from '../../scripts/bench-figures.mjs';

interface Kept { name: string; value: number; unit: string; goal?: string; conditions: string; bench: string; at: string }

describe('benchmark figures (bench/results.json and the README table)', () => {
  it('reads the FIGURE lines of a run and replaces all earlier figures of that benchmark', () => {
    const kept: Kept[] = [
      { name: 'a.old', value: 1, unit: 'x', conditions: 'c', bench: 'a', at: '2026-01-01T00:00:00Z' },
      { name: 'b.kept', value: 2, unit: 'x', conditions: 'c', bench: 'b', at: '2026-01-01T00:00:00Z' },
    ];
    const out = 'phase 1: ...\nFIGURE {"name":"a.new","value":1234,"unit":"orders/s","goal":">= 1000","conditions":"burst"}\ndone\n';
    const fresh = figuresIn(out, 'a', '2026-12-01T00:00:00Z') as Kept[];
    assert.deepEqual(fresh, [{ name: 'a.new', value: 1234, unit: 'orders/s', goal: '>= 1000', conditions: 'burst', bench: 'a', at: '2026-12-01T00:00:00Z' }]);
    assert.deepEqual((mergeFigures(kept, fresh) as Kept[]).map((f) => f.name), ['a.new', 'b.kept']);
  });

  it('says whether each figure meets its goal', () => {
    assert.equal(meetsGoal({ value: 1234, goal: '>= 1000' }), true);
    assert.equal(meetsGoal({ value: 1800, goal: '<= 1000' }), false);
    assert.equal(meetsGoal({ value: 5 }), undefined);
  });

  it('the README shows exactly the table of bench/results.json', () => {
    const readme = readFileSync('README.md', 'utf8');
    const figures = readFigures() as Kept[];
    assert.ok(figures.length > 0, 'bench/results.json holds figures');
    for (const f of figures) for (const field of ['name', 'value', 'unit', 'conditions'] as const) assert.notEqual(f[field], undefined, `${f.name}: ${field}`);
    assert.equal(withTable(readme, figures), readme, 'README.md is regenerated from bench/results.json (npm run bench)');
    assert.match(figureTable(figures) as string, /\| figure \| value \| goal \|/);
  });
});
