import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import pino from 'pino';
import { ConfigError, parseConfigText } from '../../src/config/load.ts';
import { alertsSchema, type AlertsConfig } from '../../src/observability/alerts/config.ts';
import { createAlertDispatcher } from '../../src/observability/alerts/dispatcher.ts';
import { createMetricsRegistry } from '../../src/observability/metrics.ts';
import { eventually } from '../support/eventually.ts';

interface Received { path: string; headers: IncomingMessage['headers']; body: any; at: number }

/** A local HTTP receiver: records every POST; `answer` says what status each path gets next. */
class Receiver {
  received: Received[] = [];
  answers = new Map<string, number[]>();
  private server?: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let text = '';
      req.on('data', (c) => { text += c; });
      req.on('end', () => {
        const status = this.answers.get(req.url!)?.shift() ?? 200;
        this.received.push({ path: req.url!, headers: req.headers, body: text ? JSON.parse(text) : null, at: Date.now() });
        res.writeHead(status, status === 429 ? { 'retry-after': '1' } : {}).end(status === 200 ? 'ok' : 'no');
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  at(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  stop(): Promise<void> {
    return new Promise((r) => this.server!.close(() => r()));
  }
}

function capture() {
  const lines: any[] = [];
  const log = pino({ level: 'debug' }, new Writable({ write(chunk, _e, done) { lines.push(JSON.parse(String(chunk))); done(); } }));
  return { log, lines };
}

const receiver = new Receiver();
before(() => receiver.start());
after(() => receiver.stop());
beforeEach(() => { receiver.received = []; receiver.answers.clear(); });

const config = (raw: unknown): AlertsConfig => alertsSchema.parse(raw);
const conflict = (n: number) => ({ entity: 'customer', kind: 'conflict', key: `shop-1|C-${n}`, message: `customer shop-1|C-${n}: email changed on SALESFORCE, owned by SHOP; policy reassert-master`, fields: ['email'] });

describe('alert delivery to webhooks', () => {
  test('generic JSON and Slack-compatible messages carry the entity, key and message; kinds route them', async () => {
    const { log } = capture();
    const d = createAlertDispatcher(config({
      webhooks: [
        { name: 'ops-json', url: `${receiver.url}/json`, headers: { Authorization: 'Bearer hook-token' } },
        { name: 'ops-slack', url: `${receiver.url}/slack`, format: 'slack', kinds: ['conflict'] },
      ],
    }), { shopId: 'shop-1', log });
    d.notify(conflict(1));
    d.notify({ entity: 'product', kind: 'unmastered-create', key: 'shop-1|SKU-1', message: 'product shop-1|SKU-1 appeared on SHOP, which owns none of its fields' });
    await d.close();

    const json = receiver.at('/json');
    assert.equal(json.length, 2, 'one message per alert (threshold 1)');
    assert.equal(json[0]!.headers.authorization, 'Bearer hook-token');
    assert.equal(json[0]!.headers['content-type'], 'application/json');
    const first = json.find((r) => r.body.kind === 'conflict')!.body;
    assert.equal(first.source, 'shopforce');
    assert.equal(first.shopId, 'shop-1');
    assert.equal(first.count, 1);
    assert.equal(first.text, 'shopforce shop-1: 1 conflict alert (customer)');
    assert.deepEqual({ ...first.alerts[0], at: undefined }, { ...conflict(1), at: undefined });
    assert.ok(!Number.isNaN(Date.parse(first.alerts[0].at)));

    const slack = receiver.at('/slack');
    assert.equal(slack.length, 1, 'the Slack webhook takes conflicts only');
    assert.equal(slack[0]!.body.text, 'shopforce shop-1: 1 conflict alert (customer)');
    assert.equal(slack[0]!.body.blocks[0].type, 'section');
    assert.match(slack[0]!.body.blocks[1].text.text, /• \*customer\* `shop-1\|C-1` customer shop-1\|C-1: email changed on SALESFORCE/);
  });

  test('threshold: a message only once N alerts of the kind happened within the window, listing them all', async () => {
    const { log } = capture();
    const d = createAlertDispatcher(config({
      webhooks: [{ name: 'hook', url: `${receiver.url}/t` }],
      kinds: { conflict: { threshold: 3, windowMs: 60_000 } },
    }), { shopId: 'shop-1', log });
    d.notify(conflict(1));
    d.notify(conflict(2));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(receiver.at('/t').length, 0, 'two alerts stay under the threshold');
    d.notify(conflict(3));
    await eventually(async () => receiver.at('/t').length, (n) => n === 1, 5_000);
    const body = receiver.at('/t')[0]!.body;
    assert.equal(body.count, 3);
    assert.deepEqual(body.alerts.map((a: any) => a.key), ['shop-1|C-1', 'shop-1|C-2', 'shop-1|C-3']);
    assert.equal(body.text, 'shopforce shop-1: 3 conflict alerts (customer) in the last 1 min');
    d.notify(conflict(4));
    await d.close();
    assert.equal(receiver.at('/t').length, 1, 'the count starts again after a message');
  });

  test('rate limit: at most maxMessages per period; the rest arrive as one summary when the period ends', async () => {
    const { log } = capture();
    const registry = createMetricsRegistry();
    const d = createAlertDispatcher(config({
      webhooks: [{ name: 'hook', url: `${receiver.url}/r` }],
      kinds: { conflict: { maxMessages: 2, periodMs: 1_500 } },
    }), { shopId: 'shop-1', log, registry });
    const started = Date.now();
    for (let i = 1; i <= 6; i++) d.notify(conflict(i));
    await eventually(async () => receiver.at('/r').length, (n) => n === 2, 5_000);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(receiver.at('/r').length, 2, 'the limit holds the other four back');
    await eventually(async () => receiver.at('/r').length, (n) => n === 3, 5_000);
    const summary = receiver.at('/r')[2]!;
    assert.ok(summary.at - started >= 1_400, `the summary waits for the period to end (${summary.at - started} ms)`);
    assert.equal(summary.body.reason, 'held-back');
    assert.equal(summary.body.count, 4);
    assert.deepEqual(summary.body.alerts.map((a: any) => a.key), ['shop-1|C-3', 'shop-1|C-4', 'shop-1|C-5', 'shop-1|C-6']);
    assert.match(summary.body.text, /4 conflict alerts \(customer\) held back by the rate limit in the last 2 s/);
    await d.close();
    const metrics = await registry.metrics();
    assert.match(metrics, /shopforce_alert_notifications_total\{webhook="hook",kind="conflict",result="sent"\} 6/);
    assert.match(metrics, /shopforce_alert_notifications_total\{webhook="hook",kind="conflict",result="held"\} 4/);
  });

  test('close() sends what the rate limit holds back rather than dropping it', async () => {
    const { log } = capture();
    const d = createAlertDispatcher(config({
      webhooks: [{ name: 'hook', url: `${receiver.url}/c` }],
      kinds: { conflict: { maxMessages: 1, periodMs: 3_600_000 } },
    }), { shopId: 'shop-1', log });
    d.notify(conflict(1));
    d.notify(conflict(2));
    await d.close();
    assert.deepEqual(receiver.at('/c').map((r) => [r.body.reason, r.body.count]), [['threshold', 1], ['held-back', 1]]);
  });

  test('5xx, 408 and 429 are retried; other 4xx are not; a delivery that gives up is a warning and a metric', async () => {
    const { log, lines } = capture();
    const registry = createMetricsRegistry();
    receiver.answers.set('/flaky', [503, 429, 200]);
    receiver.answers.set('/gone', [404, 200]);
    receiver.answers.set('/down', [500, 500, 500]);
    const d = createAlertDispatcher(config({
      webhooks: [
        { name: 'flaky', url: `${receiver.url}/flaky`, retries: 3 },
        { name: 'gone', url: `${receiver.url}/gone`, retries: 3 },
        { name: 'down', url: `${receiver.url}/down`, retries: 2 },
      ],
    }), { shopId: 'shop-1', log, registry, retryMinTimeoutMs: 10 });
    d.notify(conflict(1));
    await d.close();
    assert.equal(receiver.at('/flaky').length, 3, 'retried until the receiver took it');
    assert.ok(receiver.at('/flaky')[2]!.at - receiver.at('/flaky')[1]!.at >= 900, 'Retry-After of the 429 is honoured');
    assert.equal(receiver.at('/gone').length, 1, 'a 404 is not retried');
    assert.equal(receiver.at('/down').length, 3, 'first attempt and two retries');
    const warnings = lines.filter((l) => l.level === 40).map((l) => [l.webhook, l.msg]);
    assert.deepEqual(warnings.sort(), [['down', 'alert delivery to webhook down failed'], ['gone', 'alert delivery to webhook gone failed']]);
    assert.match(lines.find((l) => l.webhook === 'gone' && l.level === 40).err, /HTTP 404/);
    const metrics = await registry.metrics();
    assert.match(metrics, /shopforce_alert_notifications_total\{webhook="flaky",kind="conflict",result="sent"\} 1/);
    assert.match(metrics, /shopforce_alert_notifications_total\{webhook="down",kind="conflict",result="failed"\} 1/);
  });

  test('a receiver that never answers is given up after timeoutMs per attempt', async () => {
    const { log, lines } = capture();
    const silent = createServer(() => { /* never answers */ });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const d = createAlertDispatcher(config({
        webhooks: [{ name: 'silent', url: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/`, timeoutMs: 300, retries: 1 }],
      }), { shopId: 'shop-1', log, retryMinTimeoutMs: 10 });
      const started = Date.now();
      d.notify(conflict(1));
      await d.close();
      assert.ok(Date.now() - started < 5_000);
      assert.equal(lines.filter((l) => l.level === 40 && l.webhook === 'silent').length, 1);
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });

  test('a disabled kind, or no webhooks at all, sends nothing', async () => {
    const { log } = capture();
    const d = createAlertDispatcher(config({ webhooks: [{ name: 'hook', url: `${receiver.url}/off` }], kinds: { conflict: { enabled: false } } }), { shopId: 'shop-1', log });
    d.notify(conflict(1));
    await d.close();
    const none = createAlertDispatcher(config({}), { shopId: 'shop-1', log });
    none.notify(conflict(2));
    await none.close();
    assert.equal(receiver.received.length, 0);
  });
});

describe('alert configuration', () => {
  const file = (alerts: string) => `
kafka: { brokers: ["127.0.0.1:59092"] }
registry: { url: "http://127.0.0.1:58081" }
shop: { databaseUrl: "\${DB}" }
salesforce: { loginUrl: "https://login.salesforce.com", authType: client_credentials, clientId: abc, clientSecret: "\${SECRET}" }
observability:
  alerts: ${alerts}
`;
  const env = { DB: 'postgres://u:p@127.0.0.1:55432/shop', SECRET: 's', HOOK: 'https://hooks.example.com/T0/B0/x', HOOK2: 'ftp://files', TOKEN: 'Bearer t' };
  const issues = (alerts: string) => {
    try {
      parseConfigText(file(alerts), env, 'c.yaml');
    } catch (err) {
      assert.ok(err instanceof ConfigError, String(err));
      return err.issues.map((i) => `${i.path}: ${i.message}`);
    }
    return [];
  };

  test('a valid section: defaults for every kind, secrets from the environment', () => {
    const cfg = parseConfigText(file(`{ webhooks: [{ name: ops, url: "\${HOOK}", format: slack, headers: { Authorization: "\${TOKEN}" } }], kinds: { conflict: { threshold: 5 } } }`), env, 'c.yaml');
    const alerts = cfg.observability.alerts;
    assert.equal(alerts.webhooks[0]!.url, env.HOOK);
    assert.equal(alerts.webhooks[0]!.headers.Authorization, 'Bearer t');
    assert.equal(alerts.webhooks[0]!.retries, 3);
    assert.deepEqual(alerts.kinds.conflict, { enabled: true, threshold: 5, windowMs: 300_000, maxMessages: 10, periodMs: 3_600_000 });
    assert.equal(alerts.kinds['negative-stock'].threshold, 1);
    assert.deepEqual(parseConfigText(file('{}'), env, 'c.yaml').observability.alerts.webhooks, []);
  });

  test('every bad field is named by its path', () => {
    assert.deepEqual(issues(`
    webhooks:
      - { name: ops, url: "\${HOOK2}", format: teams, kinds: [conflict, drift], timeoutMs: 10 }
      - { name: ops, url: "\${HOOK}", retries: -1, colour: red }
    kinds:
      conflict: { threshold: 0, periodMs: 10 }
      surprise: {}
    `).sort(), [
      'observability.alerts.kinds.conflict.periodMs: Too small: expected number to be >=1000',
      'observability.alerts.kinds.conflict.threshold: Too small: expected number to be >=1',
      'observability.alerts.kinds.surprise: unknown field',
      'observability.alerts.webhooks.0.format: Invalid option: expected one of "json"|"slack"',
      'observability.alerts.webhooks.0.kinds.1: Invalid option: expected one of "conflict"|"unmastered-create"|"negative-stock"|"stage-paused"',
      'observability.alerts.webhooks.0.timeoutMs: Too small: expected number to be >=100',
      'observability.alerts.webhooks.0.url: must be an http:// or https:// URL',
      'observability.alerts.webhooks.1.colour: unknown field',
      'observability.alerts.webhooks.1.retries: Too small: expected number to be >=0',
    ]);
    assert.deepEqual(issues(`{ webhooks: [{ name: a, url: "\${HOOK}" }, { name: a, url: "\${HOOK}" }] }`), [
      'observability.alerts.webhooks.1.name: "a" is already the name of webhooks.0',
    ]);
  });

  test('webhook URLs and header values are secrets: written in the file they are refused', () => {
    assert.deepEqual(issues(`{ webhooks: [{ name: a, url: "https://hooks.example.com/T0/B0/x", headers: { Authorization: "Bearer t" } }] }`), [
      'observability.alerts.webhooks.0.url: is a secret: give it as a ${VAR} reference to the environment, not in the file',
      'observability.alerts.webhooks.0.headers.Authorization: is a secret: give it as a ${VAR} reference to the environment, not in the file',
    ]);
  });
});
