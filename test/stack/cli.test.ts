import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { getTestStack } from '../support/stack.ts';
import { REPO_DIR } from '../../src/stack/context.ts';

const run = promisify(execFile);
const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  run(process.execPath, [join(REPO_DIR, 'bin/shopforce.js'), ...args], { env: { ...process.env, ...env }, timeout: 120_000 });

// What a person (or a script) sees from `shopforce stack …` against the running stack, and how
// it fails when something it needs is missing: fast, saying what and how to fix it.
describe('shopforce stack (CLI)', () => {
  before(async () => {
    await getTestStack();
  });

  test('status --json lists every component healthy with the addresses a script needs', async () => {
    const { stdout } = await cli(['stack', 'status', '--json']);
    const status = JSON.parse(stdout);
    assert.equal(status.healthy, true);
    assert.deepEqual(status.components.map((c: any) => c.name), ['postgres', 'kafka', 'registry', 'connect']);
    for (const c of status.components) {
      assert.equal(c.healthy, true, `${c.name} healthy`);
      assert.ok(c.pid > 0, `${c.name} has a pid`);
    }
    assert.match(status.addresses.postgres.url, /^postgres:\/\/shopforce:[^@]+@127\.0\.0\.1:\d+\/shop$/);
    assert.match(status.addresses.kafka.brokers[0], /^127\.0\.0\.1:\d+$/);
    assert.match(status.addresses.registry.url, /\/apis\/ccompat\/v7$/);
    assert.match(status.addresses.connect.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  test('up is idempotent: a healthy stack is reused, not restarted', async () => {
    const before = JSON.parse((await cli(['stack', 'status', '--json'])).stdout);
    const { stderr } = await cli(['stack', 'up']);
    for (const name of ['postgres', 'kafka', 'registry', 'connect']) assert.match(stderr, new RegExp(`${name}: already running`));
    const after = JSON.parse((await cli(['stack', 'status', '--json'])).stdout);
    assert.deepEqual(after.components.map((c: any) => c.pid), before.components.map((c: any) => c.pid));
  });

  test('the kafka passthrough runs Kafka\'s own topic tool against the stack', async () => {
    const { stdout } = await cli(['kafka', 'topics', '--list']);
    assert.match(stdout, /^shopforce-connect-configs$/m);
    assert.match(stdout, /^shop\.public\.customers$/m);
  });

  test('logs of an unknown component name the valid ones', async () => {
    await assert.rejects(cli(['stack', 'logs', 'zookeeper']), (err: any) => {
      assert.equal(err.code, 1);
      assert.match(err.stderr, /unknown component 'zookeeper': choose one of postgres, kafka, registry, connect/);
      return true;
    });
  });

  test('a taken port fails fast with the variable that moves it', async () => {
    const blocker = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    const port = (blocker.address() as net.AddressInfo).port;
    const state = mkdtempSync(join(tmpdir(), 'shopforce-port-'));
    try {
      // PostgreSQL of a second stack on a taken port: refused before anything starts
      await assert.rejects(cli(['stack', 'up'], { SHOPFORCE_STATE_DIR: state, SHOPFORCE_PG_PORT: String(port) }), (err: any) => {
        assert.match(err.stderr, new RegExp(`port ${port} for PostgreSQL is already taken`));
        assert.match(err.stderr, /SHOPFORCE_PG_PORT=<port>/);
        return true;
      });
    } finally {
      blocker.close();
      rmSync(state, { recursive: true, force: true });
    }
  });

  test('a missing Java fails fast and says how to install it', async () => {
    await assert.rejects(cli(['kafka', 'topics', '--list'], { JAVA_HOME: '/nonexistent-jdk' }), (err: any) => {
      assert.match(err.stderr, /Java 17 or newer is required/);
      assert.match(err.stderr, /how to fix: apt-get install openjdk-17/);
      return true;
    });
  });

  test('a bad port variable names the variable', async () => {
    await assert.rejects(cli(['stack', 'status'], { SHOPFORCE_KAFKA_PORT: 'kafka' }), (err: any) => {
      assert.match(err.stderr, /SHOPFORCE_KAFKA_PORT=kafka is not a valid TCP port/);
      return true;
    });
  });
});
