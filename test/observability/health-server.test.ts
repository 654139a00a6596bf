import { networkInterfaces } from 'node:os';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, parseConfigText } from '../../src/config/load.ts';
import { startHealthServer } from '../../src/observability/health.ts';
import { createMetricsRegistry } from '../../src/observability/metrics.ts';

const ready = { name: 'stage', ready: () => true };

test('with an access token, /metrics, /healthz and /readyz answer 401 without it and 200 with it', async () => {
  const server = await startHealthServer({ registry: createMetricsRegistry(), checks: [ready], accessToken: 'a-long-enough-token-123' });
  try {
    for (const path of ['/metrics', '/healthz', '/readyz']) {
      const none = await fetch(`${server.url}${path}`);
      assert.equal(none.status, 401, `${path} without a token`);
      assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
      assert.equal((await fetch(`${server.url}${path}`, { headers: { authorization: 'Bearer wrong-token' } })).status, 401, `${path} with a wrong token`);
      const ok = await fetch(`${server.url}${path}`, { headers: { authorization: 'Bearer a-long-enough-token-123' } });
      assert.equal(ok.status, 200, `${path} with the token`);
    }
    const metrics = await (await fetch(`${server.url}/metrics`, { headers: { authorization: 'bearer a-long-enough-token-123' } })).text();
    assert.match(metrics, /shopforce_process_cpu_seconds_total/);
  } finally {
    await server.close();
  }
});

test('without a token nothing is asked; the default address is the loopback one', async () => {
  const server = await startHealthServer({ registry: createMetricsRegistry(), checks: [ready] });
  try {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
    // not reachable on the machine's other addresses
    const other = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal);
    if (other) await assert.rejects(fetch(`http://${other.address}:${server.port}/healthz`, { signal: AbortSignal.timeout(2000) }));
  } finally {
    await server.close();
  }
});

test('metricsHost 0.0.0.0 listens on every interface (a container\'s scraper reaches it)', async () => {
  const server = await startHealthServer({ registry: createMetricsRegistry(), checks: [ready], host: '0.0.0.0' });
  try {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/, 'the printed URL is one this machine can open');
    const other = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal);
    const host = other?.address ?? '127.0.0.1';
    assert.equal((await fetch(`http://${host}:${server.port}/healthz`)).status, 200);
  } finally {
    await server.close();
  }
});

const minimal = (observability: string) => `
kafka: { brokers: ["127.0.0.1:59092"] }
registry: { url: "http://127.0.0.1:58081" }
shop: { databaseUrl: "\${DB}" }
salesforce: { loginUrl: "https://login.salesforce.com", authType: client_credentials, clientId: abc, clientSecret: "\${SECRET}" }
observability: ${observability}
`;
const env = { DB: 'postgres://u:p@127.0.0.1:55432/shop', SECRET: 's', TOKEN: 'a-long-enough-token-123' };

function issues(text: string): string[] {
  try {
    parseConfigText(text, env, 'c.yaml');
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.issues.map((i) => `${i.path}: ${i.message}`);
  }
  return [];
}

test('metricsHost and accessToken are configuration fields: defaults, secrets from the environment, bad values named', () => {
  const defaults = parseConfigText(minimal('{}'), env, 'c.yaml').observability;
  assert.equal(defaults.metricsHost, '127.0.0.1');
  assert.equal(defaults.accessToken, undefined);
  const set = parseConfigText(minimal('{ metricsHost: 0.0.0.0, accessToken: "${TOKEN}" }'), env, 'c.yaml').observability;
  assert.equal(set.metricsHost, '0.0.0.0');
  assert.equal(set.accessToken, 'a-long-enough-token-123');
  assert.deepEqual(issues(minimal('{ metricsHost: "not a host", accessToken: "${SHORT}" }').replace('${SHORT}', '${SECRET}')), [
    'observability.metricsHost: must be an IP address or a host name',
    'observability.accessToken: must be at least 16 characters',
  ]);
  assert.deepEqual(issues(minimal('{ accessToken: "written-in-the-file-123" }')), [
    'observability.accessToken: is a secret: give it as a ${VAR} reference to the environment, not in the file',
  ]);
});

test('/readyz is 503 while a stage is paused (naming the reason) and 200 again once it resumes; /healthz stays 200', async () => {
  let pause: { since: string; reason: string } | undefined = { since: '2026-01-01T00:00:00.000Z', reason: 'shop database: SQLSTATE 42501: permission denied for table customers' };
  const sink = { name: 'shop-sink', ready: () => true, live: () => true, paused: () => pause };
  const server = await startHealthServer({ registry: createMetricsRegistry(), checks: [ready, sink] });
  try {
    const paused = await fetch(`${server.url}/readyz`);
    assert.equal(paused.status, 503);
    const body = await paused.json() as { ready: boolean; checks: Record<string, boolean>; paused: Record<string, { reason: string }> };
    assert.deepEqual(body.checks, { stage: true, 'shop-sink': false });
    assert.match(body.paused['shop-sink']!.reason, /permission denied/);
    assert.match(await (await fetch(`${server.url}/metrics`)).text(), /shopforce_ready\{stage="shop-sink"\} 0/);
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200, 'a paused stage is alive: no restart would fix it');
    pause = undefined;
    const resumed = await fetch(`${server.url}/readyz`);
    assert.equal(resumed.status, 200);
    assert.equal((await resumed.json() as { paused?: unknown }).paused, undefined);
  } finally {
    await server.close();
  }
});

test('/healthz is 503 naming a dead stage (its consumer crashed for good), so the process is restarted', async () => {
  let alive = true;
  const router = { name: 'router', ready: () => alive, live: () => alive };
  const server = await startHealthServer({ registry: createMetricsRegistry(), checks: [ready, router] });
  try {
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    alive = false;
    const dead = await fetch(`${server.url}/healthz`);
    assert.equal(dead.status, 503);
    assert.deepEqual(await dead.json(), { status: 'dead', dead: ['router'] });
  } finally {
    await server.close();
  }
});
