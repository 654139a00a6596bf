// Loaded before every test file (`npm test` passes it with --import). Test files run side by side and share
// the stack; the few that stop or restart a part of it (PostgreSQL, the registry) would pull it from under the
// others. Those, named in SHOPFORCE_TEST_EXCLUSIVE, run alone: the gate lets such a file start once no other
// file runs, and holds other files back while it runs.
//
// The gate is a folder of marks: `<pid>.running` for each file that runs, `exclusive` for the one that wants
// the stack to itself. Files create their mark, then look: a file that finds an `exclusive` mark of a live
// process withdraws and waits; the exclusive file never withdraws, it waits until it is the only one running.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const dir = process.env.SHOPFORCE_TEST_GATE_DIR;
// the runner itself (node --test …) lists every file: only a file's own process passes the gate
const file = process.execArgv.includes('--test') ? undefined : process.argv.find((a) => a.endsWith('.test.ts'));

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const pidIn = (path) => Number(readFileSync(path, 'utf8'));
const exclusiveHolder = () => {
  const path = join(dir, 'exclusive');
  if (!existsSync(path)) return undefined;
  const pid = pidIn(path);
  if (alive(pid)) return pid;
  rmSync(path, { force: true }); // its process ended without letting go
  return undefined;
};
const othersRunning = () => readdirSync(dir).filter((n) => n.endsWith('.running')).map((n) => Number(n.split('.')[0]))
  .filter((pid) => pid !== process.pid && alive(pid));

if (dir && file) {
  mkdirSync(dir, { recursive: true });
  const exclusive = (process.env.SHOPFORCE_TEST_EXCLUSIVE ?? '').split(',').filter(Boolean).includes(relative(process.cwd(), file));
  const mine = join(dir, `${process.pid}.running`);
  process.on('exit', () => {
    rmSync(mine, { force: true });
    if (exclusive && exclusiveHolder() === process.pid) rmSync(join(dir, 'exclusive'), { force: true });
  });
  if (exclusive) {
    // one exclusive file at a time: take the mark when it is free
    for (;;) {
      if (exclusiveHolder() === undefined) {
        try {
          writeFileSync(join(dir, 'exclusive'), String(process.pid), { flag: 'wx' });
          break;
        } catch { /* another one took it first */ }
      }
      await sleep(500);
    }
    writeFileSync(mine, String(process.pid));
    while (othersRunning().length > 0) await sleep(500);
  } else {
    for (;;) {
      if (exclusiveHolder() === undefined) {
        writeFileSync(mine, String(process.pid));
        if (exclusiveHolder() === undefined) break;
        rmSync(mine, { force: true });
      }
      await sleep(500);
    }
  }
}
