#!/usr/bin/env node
// `npm run chaos [-- fault ...]`: brings the local stack up, then runs the chaos suite (chaos/run.ts)
// in its own process; the table goes to chaos/results.md and .json.
import { spawnSync } from 'node:child_process';

console.log('# bringing the local stack up (shopforce stack up)');
const up = spawnSync(process.execPath, ['bin/shopforce.js', 'stack', 'up'], { stdio: 'inherit' });
if (up.status !== 0) process.exit(up.status ?? 1);
const run = spawnSync(process.execPath, ['--import', 'tsx', 'chaos/run.ts', ...process.argv.slice(2)], {
  stdio: 'inherit', env: { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1', LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
});
process.exit(run.status ?? 1);
