import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Pipeline } from '../../src/run/pipeline.ts';
import { eventually } from '../support/eventually.ts';
import { testPipelineConfig } from '../support/pipeline.ts';
import { sandboxEnv } from '../support/pipeline-process.ts';
import { startPipelineInProcess, startSyncFixture, type SyncFixture } from '../support/sync-fixture.ts';

// A conflict in the running pipeline reaches a person: the reconciler's alert goes through the
// pipeline's onAlert to a Slack-compatible webhook (a local HTTP receiver here).
let f: SyncFixture;
let pipeline: Pipeline;
let receiver: Server;
const received: Array<{ path: string; body: any }> = [];
const run = randomUUID().slice(0, 6).toUpperCase();
const customer = `AC-${run}`;

before(async () => {
  receiver = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => { text += c; });
    req.on('end', () => { received.push({ path: req.url!, body: JSON.parse(text) }); res.end('ok'); });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  f = await startSyncFixture();
  const config = testPipelineConfig(f.stack, sandboxEnv(f.t), (c) => {
    c.salesforce.apiVersion = '60.0';
    c.sink.lingerMs = 100;
    c.observability.logLevel = 'warn'; // the reconciler's conflict warning only
    c.observability.alerts = {
      webhooks: [{ name: 'ops-slack', url: `${hook}/slack`, format: 'slack', kinds: ['conflict'], headers: {}, timeoutMs: 5_000, retries: 2 }],
      kinds: {
        conflict: { enabled: true, threshold: 1, windowMs: 60_000, maxMessages: 10, periodMs: 3_600_000 },
        'unmastered-create': { enabled: true, threshold: 1, windowMs: 60_000, maxMessages: 10, periodMs: 3_600_000 },
        'negative-stock': { enabled: true, threshold: 1, windowMs: 60_000, maxMessages: 10, periodMs: 3_600_000 },
        'stage-paused': { enabled: true, threshold: 1, windowMs: 60_000, maxMessages: 10, periodMs: 3_600_000 },
      },
    };
  });
  pipeline = await startPipelineInProcess(config);
});

after(async () => {
  await pipeline?.stop();
  await f?.cleanup();
  receiver?.close();
});

test('an e-mail changed in Salesforce (owned by the shop) is a conflict that reaches the Slack webhook', async () => {
  await f.db.query(`insert into customers (customer_number, email, first_name, last_name) values ($1, $2, 'Alan', 'Turing')`, [customer, `alan.${run.toLowerCase()}@example.com`]);
  const contact = await eventually(
    async () => (await f.sf.query<{ Id: string }>(`SELECT Id FROM Contact WHERE Shop_Customer_Id__c LIKE '%|${customer}'`)).records[0],
    (c) => !!c, 90_000);
  assert.equal(received.length, 0, 'nothing to tell while the two sides agree');

  f.t.sb.admin.userEdit({ object: 'Contact', id: contact!.Id, fields: { Email: 'someone.else@example.com' } });
  const [message] = await eventually(async () => received.filter((r) => r.path === '/slack'), (r) => r.length >= 1, 90_000);
  assert.match(message!.body.text, /^shopforce shop-1: 1 conflict alert \(customer\)/);
  assert.equal(message!.body.blocks[0].type, 'section');
  const metrics = await (await fetch(`${pipeline.health.url}/metrics`)).text();
  assert.match(metrics, /shopforce_reconcile_alerts_total\{entity="customer",kind="conflict"\} [1-9]/);
  await eventually(async () => (await fetch(`${pipeline.health.url}/metrics`)).text(),
    (m) => /shopforce_alert_notifications_total\{webhook="ops-slack",kind="conflict",result="sent"\} [1-9]/.test(m), 10_000);
});
