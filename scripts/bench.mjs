#!/usr/bin/env node
// `npm run bench [-- name ...]`: runs the benchmarks in bench/*.ts one after the other (they share
// 2 cores: never in parallel), against the local stack where they need it, and keeps the latest
// output of each in bench/results/<name>.txt plus a summary in bench/RESULTS.md, and their figures in
// bench/results.json and the README's table.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import os from 'node:os';
import { figuresIn, mergeFigures, readFigures, saveFigures } from './bench-figures.mjs';

const wanted = process.argv.slice(2);
const files = readdirSync('bench').filter((f) => f.endsWith('.ts')).sort()
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.includes(w)));
if (files.length === 0) {
  console.error(`no benchmark matches ${wanted.join(' ')}; available: ${readdirSync('bench').filter((f) => f.endsWith('.ts')).join(', ')}`);
  process.exit(2);
}

console.log('# bringing the local stack up (shopforce stack up)');
const up = spawnSync(process.execPath, ['bin/shopforce.js', 'stack', 'up'], { stdio: 'inherit' });
if (up.status !== 0) process.exit(up.status ?? 1);

mkdirSync('bench/results', { recursive: true });
const machine = `${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'cpu'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
const summary = [`# Benchmark results`, '', `Latest run: ${new Date().toISOString()} on ${machine}.`, 'Regenerate with `npm run bench` (or `npm run bench -- <name>` for one).', ''];
let failed = 0;
const sections = new Map();
const fresh = [];
for (const file of files) {
  const name = basename(file, '.ts');
  console.log(`\n# ${name}`);
  const started = Date.now();
  const run = spawnSync(process.execPath, ['--import', 'tsx', join('bench', file)], {
    encoding: 'utf8', env: { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1', LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' }, maxBuffer: 64 * 2 ** 20,
  });
  process.stdout.write(run.stdout);
  if (run.status !== 0) {
    failed++;
    process.stderr.write(run.stderr.split('\n').slice(-30).join('\n'));
  }
  writeFileSync(join('bench/results', `${name}.txt`), run.stdout);
  if (run.status === 0) fresh.push(...figuresIn(run.stdout, name, new Date().toISOString()));
  const section = [`## ${name}`, '', `${run.status === 0 ? 'ok' : `FAILED (exit ${run.status})`} in ${((Date.now() - started) / 1000).toFixed(0)} s${wanted.length ? ` (run alone on ${new Date().toISOString()})` : ''}`, '', '```', run.stdout.trim(), '```', ''];
  summary.push(...section);
  sections.set(name, section.join('\n'));
}
if (wanted.length === 0) writeFileSync('bench/RESULTS.md', summary.join('\n'));
else if (existsSync('bench/RESULTS.md')) {
  // a partial run replaces (or appends) only its own sections, so RESULTS.md matches bench/results/
  const parts = readFileSync('bench/RESULTS.md', 'utf8').split(/^(?=## )/m);
  const kept = parts.map((part) => {
    const name = /^## (\S+)/.exec(part)?.[1];
    if (name && sections.has(name)) {
      const fresh = sections.get(name);
      sections.delete(name);
      return `${fresh}\n`;
    }
    return part;
  });
  writeFileSync('bench/RESULTS.md', [...kept, ...[...sections.values()].map((x) => `${x}\n`)].join(''));
}
// the figures of the benchmarks that passed replace theirs in bench/results.json and the README's table
saveFigures(mergeFigures(readFigures(), fresh));
process.exit(failed ? 1 : 0);
