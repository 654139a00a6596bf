import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import type { Pipeline } from '../../src/run/pipeline.ts';
import { REPO_DIR } from '../../src/stack/context.ts';
import { testPipelineConfig } from '../support/pipeline.ts';
import { sandboxEnv } from '../support/pipeline-process.ts';
import { startPipelineInProcess, startSyncFixture, type SyncFixture } from '../support/sync-fixture.ts';

// The live status page of `shopforce run`, in Debian's headless Chromium: it loads without a console
// error, its charts draw the records that flow, and a record Salesforce refuses shows up among the
// dead letters with Salesforce's reason. The screenshot is kept as docs/status-page.png.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOT = process.env.STATUS_PAGE_SCREENSHOT ?? join(REPO_DIR, 'docs/status-page.png');
const TOKEN = 'status-page-test-token-0123';
const run = randomUUID().slice(0, 6).toUpperCase();

let f: SyncFixture;
let pipeline: Pipeline;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];

before(async () => {
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
  f = await startSyncFixture();
  const config = testPipelineConfig(f.stack, sandboxEnv(f.t), (c) => {
    c.salesforce.apiVersion = '60.0';
    c.sink.lingerMs = 100;
    c.observability.accessToken = TOKEN;
    c.observability.logLevel = 'warn';
  });
  pipeline = await startPipelineInProcess(config);
  browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  page = await browser.newPage();
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (err) => consoleErrors.push(String(err)));
  page.on('requestfailed', (r) => consoleErrors.push(`${r.url()}: ${r.failure()?.errorText}`));
  await page.setViewport({ width: 1400, height: 1000 });
});

after(async () => {
  await browser?.close();
  await pipeline?.stop();
  await f?.cleanup();
});

const insertCustomer = (number: string, company: string | null = null) => f.db.query(
  `insert into customers (customer_number, email, first_name, last_name, company_name) values ($1, $2, 'Grace', 'Hopper', $3)`,
  [number, `${number.toLowerCase()}@example.com`, company]);

test('the page and its assets need no token; the data does', async () => {
  const base = pipeline.health.url;
  assert.equal((await fetch(`${base}/status`)).status, 200);
  assert.equal((await fetch(`${base}/status/assets/uPlot.iife.min.js`)).status, 200);
  assert.equal((await fetch(`${base}/status/snapshot.json`)).status, 401);
  const snapshot = await (await fetch(`${base}/status/snapshot.json`, { headers: { authorization: `Bearer ${TOKEN}` } })).json();
  assert.deepEqual(snapshot.window.throughput.map((s: { name: string }) => s.name), ['customer', 'order', 'product']);
  assert.equal(snapshot.source.mode, 'pubsub');
});

test('the page loads without a console error and its charts draw the records that flow', async () => {
  await page.goto(`${pipeline.health.url}/status#token=${TOKEN}`, { waitUntil: 'load' });
  await page.waitForSelector('#stages li.ready', { timeout: 120_000 });
  await page.waitForSelector('#chart-throughput canvas', { timeout: 60_000 });
  const customerPoints = () => page.$eval('#chart-throughput', (el) => JSON.parse((el as HTMLElement).dataset.seriesPoints ?? '{}').customer ?? 0);
  const before = await customerPoints();
  for (let i = 0; i < 20; i++) await insertCustomer(`SP-${run}-${i}`);
  // the reconciler took the customers in: the customer line has more points above zero than before
  await page.waitForFunction((n) => JSON.parse(document.getElementById('chart-throughput')!.dataset.seriesPoints ?? '{}').customer > n, { timeout: 180_000, polling: 500 }, before);
  // the customers written to Salesforce draw the customer flow's latency
  await page.waitForFunction(() => JSON.parse(document.getElementById('chart-latency')!.dataset.seriesPoints ?? '{}')['customer → salesforce p95'] > 0, { timeout: 60_000, polling: 500 });
  const legend = await page.$eval('#chart-throughput', (el) => el.textContent ?? '');
  assert.match(legend, /customer/);
  const latencyLegend = await page.$eval('#chart-latency', (el) => el.textContent ?? '');
  assert.match(latencyLegend, /customer → salesforce p95/);
  const channels = await page.$eval('#channels', (el) => el.textContent ?? '');
  assert.match(channels, /Product2/, 'the source channels are listed');
  assert.deepEqual(consoleErrors, []);
});

test('a record Salesforce refuses appears among the dead letters with its reason', async () => {
  const refused = `SP-${run}-REFUSED`;
  await insertCustomer(refused, `Very Long Company Name ${'x'.repeat(260)} Ltd`);
  await page.waitForFunction((key) => [...document.querySelectorAll('#dead-letters tbody tr')]
    .some((tr) => tr.textContent!.includes(key) && tr.textContent!.includes('STRING_TOO_LONG')), { timeout: 240_000, polling: 1_000 }, refused);
  const summary = await page.$eval('#dlq-summary', (el) => el.textContent ?? '');
  assert.match(summary, /^[1-9]\d* on /);
  mkdirSync(dirname(SCREENSHOT), { recursive: true });
  await page.screenshot({ path: SCREENSHOT as `${string}.png`, fullPage: true });
  assert.deepEqual(consoleErrors, []);
});
