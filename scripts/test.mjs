#!/usr/bin/env node
// `npm test`: brings the real local stack up once (idempotent), then runs every test file under
// test/ with Node's built-in test runner, one file at a time (they share the stack and 2 cores).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
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

const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-timeout=600000', ...files],
  { stdio: 'inherit', env: { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1' } },
);
process.exit(result.status ?? 1);
