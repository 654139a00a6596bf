#!/usr/bin/env node
// `npm test`: brings the real local stack up once (idempotent), then runs every test file under
// test/ with Node's built-in test runner, four files side by side by default (SHOPFORCE_TEST_CONCURRENCY: the
// files mostly wait on the stack; a full run at two used 16 % of the 2 cores):
// each works under its own topic prefix, groups, shop id and emulator. Files that restart a part of the
// stack, or that count what a SIGKILL makes the pipeline send again, run alone: on 2 cores a neighbour's
// load makes more records in flight at the kill (crash-orders re-sent 2,000+ records against a budget of
// 200 beside another file; 7 alone).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function testFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'support' ? [] : testFiles(path);
    return name.endsWith('.test.ts') ? [path] : [];
  });
}

const only = process.argv.slice(2);
const files = only.length ? only : testFiles('test').sort();

if (!process.env.SHOPFORCE_TEST_NO_STACK && process.env.SHOPFORCE_STACK_PROVIDER !== 'testcontainers') {
  console.log('# bringing the local stack up (shopforce stack up)');
  const up = spawnSync(process.execPath, ['bin/shopforce.js', 'stack', 'up'], { stdio: 'inherit' });
  if (up.status !== 0) {
    console.error('# the stack did not come up: see the message above (and `shopforce stack logs <component>`)');
    process.exit(up.status ?? 1);
  }
}

const concurrency = Number(process.env.SHOPFORCE_TEST_CONCURRENCY ?? 4);
if (!Number.isInteger(concurrency) || concurrency < 1) {
  console.error(`# SHOPFORCE_TEST_CONCURRENCY must be a whole number of at least 1, got "${process.env.SHOPFORCE_TEST_CONCURRENCY}"`);
  process.exit(2);
}

// A file's time limit (Node's --test-timeout bounds each file's process as well as each test) counts its
// wait at the gate too; a file past it is killed and its tests reported as cancelled (CI's run of 1 December
// ended with 5 cancelled at the former 15 minutes). 30 minutes still ends a hung file well within CI's time.
const FILE_TIMEOUT_MS = 30 * 60_000;

// files that stop or restart a part of the shared stack, or count re-sends after a SIGKILL, run alone
// (test/support/stack-gate.mjs).
const EXCLUSIVE = [
  'test/chaos/postgres-restart.test.ts',
  'test/observability/stage-pause-outages.test.ts',
  'test/chaos/chaos-short.test.ts',
  'test/flows/crash-orders.test.ts',
  'test/flows/crash-prices.test.ts',
  'test/flows/relations-parents.test.ts',
  'test/flows/stock.test.ts',
  'test/flows/stock-replay-expired.test.ts',
  'test/salesforce/source-crash.test.ts',
  'test/salesforce/source-sharing.test.ts',
];
const gate = mkdtempSync(join(tmpdir(), 'shopforce-test-gate-'));

const result = spawnSync(
  process.execPath,
  [
    '--import', 'tsx', '--import', './test/support/stack-gate.mjs', '--test', `--test-concurrency=${concurrency}`, `--test-timeout=${FILE_TIMEOUT_MS}`,
    // TAP as before, then the list of tests that did not pass, last, where a truncated log still shows it
    '--test-reporter=tap', '--test-reporter-destination=stdout',
    '--test-reporter=./scripts/test-summary-reporter.mjs', '--test-reporter-destination=stdout',
    ...files,
  ],
  { stdio: 'inherit', env: { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1', SHOPFORCE_TEST_GATE_DIR: gate, SHOPFORCE_TEST_EXCLUSIVE: EXCLUSIVE.join(',') } },
);
rmSync(gate, { recursive: true, force: true });
process.exit(result.status ?? 1);
