/**
 * Payments, reconciled with orders: `shopforce run` (a child process) against the real stack and the
 * emulator. Each shop payment becomes one Payment__c on its order's Opportunity; the order's captured
 * minus refunded against its total is the Opportunity's Payment_Status__c and Paid_Amount__c, and a
 * mismatch that lasts raises an alert and an audit record.
 */
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Connection } from 'jsforce';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import type { ShopforceConfig } from '../../src/config/schema.ts';
import type { AuditEvent } from '../../src/reconcile/audit.ts';
import type { StackAddresses } from '../../src/stack/stack.ts';
import { startTestSandbox, jwtConnection, type TestSandbox } from '../sandbox/sandbox-helpers.ts';
import { waitForCommands } from '../support/commands.ts';
import { eventually } from '../support/eventually.ts';
import { collectMessages } from '../support/kafka.ts';
import { testPipelineConfig } from '../support/pipeline.ts';
import { sandboxEnv, startPipelineProcess, type PipelineProcess } from '../support/pipeline-process.ts';
import { getTestStack } from '../support/stack.ts';

const MISMATCH_ALERT_MS = 3_000;

interface Opp { Id: string; Payment_Status__c: string | null; Paid_Amount__c: number | null }
interface Pay { Provider_Transaction_Id__c: string; Opportunity__c: string | null; Amount__c: number; Status__c: string }

/** One test run's shop, org and pipeline, and what the tests do to them. */
class PaymentWorld {
  stack!: StackAddresses;
  t!: TestSandbox;
  sf!: Connection;
  db!: pg.Client;
  config!: ShopforceConfig;
  pipeline!: PipelineProcess;
  readonly shopId = `pay-${randomUUID().slice(0, 6)}`;

  async start(overrides: (c: ShopforceConfig) => void): Promise<void> {
    this.stack = await getTestStack();
    this.t = await startTestSandbox();
    this.sf = await jwtConnection(this.t.sb);
    this.db = new pg.Client({ connectionString: this.stack.postgres.url });
    await this.db.connect();
    this.config = testPipelineConfig(this.stack, sandboxEnv(this.t), (c) => {
      c.shopId = this.shopId;
      c.salesforce.apiVersion = '60.0';
      c.sink.lingerMs = 100;
      c.entities.product.enabled = false;
      c.entities.payment.enabled = true;
      c.entities.order.paymentMismatchAlertAfterMs = MISMATCH_ALERT_MS;
      overrides(c);
    });
    this.pipeline = await startPipelineProcess(this.config);
  }

  async stop(): Promise<void> {
    await this.pipeline?.cleanup();
    await this.db?.end();
    await this.t?.cleanup();
  }

  /** A customer and an order of `total` in one shop transaction, with the payments given (same transaction). */
  async placeOrder(order: string, total: string, payments: Array<[txId: string, amount: string]> = []): Promise<void> {
    await this.db.query('BEGIN');
    await this.db.query(`INSERT INTO customers (shop_id, customer_number, email, first_name, last_name) VALUES ($1, $2, $3, 'Ada', 'Payer')
      ON CONFLICT DO NOTHING`, [this.shopId, `C-${order}`, `${order.toLowerCase()}@example.com`]);
    await this.db.query(`INSERT INTO orders (shop_id, order_number, customer_number, status, subtotal_amount, total_amount)
      VALUES ($1, $2, $3, 'pending', $4, $4)`, [this.shopId, order, `C-${order}`, total]);
    for (const [txId, amount] of payments) await this.pay(order, txId, amount);
    await this.db.query('COMMIT');
  }

  /** A payment as the provider's webhook writes it: an upsert by the provider's transaction id. */
  pay(order: string, txId: string, amount: string, status = 'captured', provider = 'stripe') {
    return this.db.query(`INSERT INTO payments (shop_id, provider_transaction_id, provider, order_number, amount, status, processed_at)
      VALUES ($1, $2, $3, $4, $5, $6, now())
      ON CONFLICT (shop_id, provider_transaction_id) DO UPDATE SET amount = EXCLUDED.amount, status = EXCLUDED.status, updated_at = now()`,
    [this.shopId, txId, provider, order, amount, status]);
  }

  async opportunity(order: string): Promise<Opp | undefined> {
    return (await this.sf.query<Opp>(`SELECT Id, Payment_Status__c, Paid_Amount__c FROM Opportunity WHERE Shop_Order_Id__c = '${this.shopId}|${order}'`)).records[0];
  }

  async paymentsOf(order: string): Promise<Pay[]> {
    const opp = await this.opportunity(order);
    const all = (await this.sf.query<Pay>(`SELECT Provider_Transaction_Id__c, Opportunity__c, Amount__c, Status__c FROM Payment__c WHERE Shop_Id__c = '${this.shopId}'`)).records;
    return all.filter((p) => opp && p.Opportunity__c === opp.Id)
      .map((p) => ({ Provider_Transaction_Id__c: p.Provider_Transaction_Id__c, Opportunity__c: p.Opportunity__c, Amount__c: Number(p.Amount__c), Status__c: p.Status__c }));
  }

  /** The order's Payment__c records once there are `n` (the payment flow and the order flow land independently). */
  paymentsOnceThere(order: string, n: number): Promise<Pay[]> {
    return eventually(() => this.paymentsOf(order), (p) => p.length === n, 60_000);
  }

  /** The Opportunity once its payment status is `status`. */
  statusIs(order: string, status: string, paid: number, timeoutMs = 60_000): Promise<Opp | undefined> {
    return eventually(() => this.opportunity(order), (o) => o?.Payment_Status__c === status && Number(o.Paid_Amount__c) === paid, timeoutMs);
  }

  audit(done: (events: AuditEvent[]) => boolean, timeoutMs = 60_000): Promise<AuditEvent[]> {
    return waitForCommands<AuditEvent>(this.stack, `${this.config.kafka.topicNamespace}.sync.audit`, () => true, done, timeoutMs);
  }

  async metric(series: string): Promise<number> {
    const line = (await this.pipeline.metrics()).split('\n').find((l) => l.startsWith(`${series} `));
    return line ? Number(line.split(' ')[1]) : 0;
  }
}

describe('payments, reconciled with orders', () => {
  const w = new PaymentWorld();
  const key = (order: string) => `${w.shopId}|${order}`;
  const overdue = (order: string) => (e: AuditEvent) => e.key === key(order) && e.stage === 'DRIFT' && e.alert;

  before(() => w.start(() => {}));
  after(() => w.stop());

  test('exact: a captured payment of the order total is one Payment__c on the Opportunity, which says Paid', async () => {
    await w.placeOrder('O-EXACT', '80.00', [['pi_exact', '80.00']]);
    const opp = await w.statusIs('O-EXACT', 'Paid', 80);
    assert.deepEqual(await w.paymentsOnceThere('O-EXACT', 1), [
      { Provider_Transaction_Id__c: `${w.shopId}|stripe|pi_exact`, Opportunity__c: opp!.Id, Amount__c: 80, Status__c: 'Captured' },
    ]);
  });

  test('short: less than the total is Partially Paid, alerted and audited once it lasts; the rest paid makes it Paid', async () => {
    await w.placeOrder('O-SHORT', '80.00', [['pi_short_1', '50.00']]);
    await w.statusIs('O-SHORT', 'Partially Paid', 50);
    const events = await w.audit((e) => e.some(overdue('O-SHORT')));
    assert.match(events.find(overdue('O-SHORT'))!.message, /50\.00 paid against a total of 80\.00 \(partially paid\)/);
    assert.ok(await w.metric('shopforce_reconcile_alerts_total{entity="order",kind="payment-mismatch"}') >= 1, 'the alert is counted');

    await w.pay('O-SHORT', 'pi_short_2', '30.00');
    await w.statusIs('O-SHORT', 'Paid', 80);
    assert.deepEqual((await w.paymentsOnceThere('O-SHORT', 2)).map((p) => p.Amount__c).sort(), [30, 50]);
    const after = await w.audit((e) => e.some((x) => x.key === key('O-SHORT') && x.stage === 'DRIFT' && !x.alert));
    assert.equal(after.filter(overdue('O-SHORT')).length, 1, 'one alert for the one mismatch');
  });

  test('over: more than the total is Overpaid and alerted', async () => {
    await w.placeOrder('O-OVER', '80.00', [['pi_over_1', '80.00'], ['pi_over_2', '20.00']]);
    await w.statusIs('O-OVER', 'Overpaid', 100);
    const events = await w.audit((e) => e.some(overdue('O-OVER')));
    assert.match(events.find(overdue('O-OVER'))!.message, /100\.00 paid against a total of 80\.00 \(overpaid\)/);
  });

  test('refund: a captured payment refunded makes the order Refunded, with nothing paid, and the Payment__c Refunded', async () => {
    await w.placeOrder('O-REFUND', '80.00', [['pi_refund', '80.00']]);
    await w.statusIs('O-REFUND', 'Paid', 80);
    await w.pay('O-REFUND', 'pi_refund', '80.00', 'refunded');
    await w.statusIs('O-REFUND', 'Refunded', 0);
    const refunded = await eventually(() => w.paymentsOf('O-REFUND'), (p) => p[0]?.Status__c === 'Refunded', 60_000);
    assert.deepEqual(refunded.map((p) => [p.Provider_Transaction_Id__c, p.Status__c]), [[`${w.shopId}|stripe|pi_refund`, 'Refunded']]);
    const events = await w.audit((e) => e.some((x) => x.key === key('O-REFUND') && x.decision === 'APPLY'));
    assert.deepEqual(events.filter(overdue('O-REFUND')), [], 'a refund is no mismatch');
  });

  test('duplicate delivery: a provider retry with the same id and a payment event delivered twice are one Payment__c, paid once', async () => {
    const paymentKey = `${w.shopId}|stripe|pi_dup`;
    await w.placeOrder('O-DUP', '80.00');
    // the provider reports the payment authorized, then captured, then retries that webhook: same transaction id each time
    await w.pay('O-DUP', 'pi_dup', '80.00', 'authorized');
    await w.statusIs('O-DUP', 'Authorized', 0);
    await w.pay('O-DUP', 'pi_dup', '80.00', 'captured');
    await w.pay('O-DUP', 'pi_dup', '80.00', 'captured');
    await w.statusIs('O-DUP', 'Paid', 80);
    // the first change event delivered once more, after the newer ones (at-least-once transport), as Debezium sent it
    const topic = `${w.config.kafka.shopTopicPrefix}.${w.config.shop.schema}.payments`;
    const [first] = await collectMessages(w.stack.kafka.brokers, [topic], {
      match: (m) => m.value?.after?.shop_id === w.shopId && m.value?.after?.provider_transaction_id === 'pi_dup' && m.value?.after?.status === 'authorized',
      until: (all) => all.length > 0, timeoutMs: 30_000,
    });
    assert.ok(first, 'the payment\'s first change event is on the shop topic');
    const producer = new Kafka({ brokers: w.stack.kafka.brokers, clientId: 'shopforce-test', logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ key: first!.key, value: first!.rawValue! }] });
    await producer.disconnect();

    const fromShop = (e: AuditEvent[]) => e.filter((x) => x.key === paymentKey && x.origin === 'SHOP').map((x) => x.decision);
    const events = await w.audit((e) => fromShop(e).includes('DUPLICATE'));
    assert.deepEqual(fromShop(events), ['APPLY', 'APPLY', 'NOOP', 'DUPLICATE'], 'captured once; the retry and the replay change nothing');
    const payments = await eventually(() => w.paymentsOf('O-DUP'), (p) => p[0]?.Status__c === 'Captured', 60_000);
    assert.deepEqual(payments.map((p) => [p.Provider_Transaction_Id__c, p.Amount__c, p.Status__c]), [[paymentKey, 80, 'Captured']]);
    const opp = await w.opportunity('O-DUP');
    assert.deepEqual([opp!.Payment_Status__c, Number(opp!.Paid_Amount__c)], ['Paid', 80], 'paid once, not twice');
    assert.equal((await w.sf.query(`SELECT COUNT() FROM Payment__c WHERE Opportunity__c = '${opp!.Id}'`)).totalSize, 1, 'one Payment__c');
  });
});

describe('a payment that arrives before its order', () => {
  const w = new PaymentWorld();
  // the Opportunity waits for its Account: the customer flow is off, a person creates the Account later
  before(() => w.start((c) => { c.entities.customer.enabled = false; }));
  after(() => w.stop());

  test('waits in the sink, parked and not dead-lettered, until the Opportunity lands; then it is on it and the order is Paid', async () => {
    await w.placeOrder('O-EARLY', '42.00', [['pi_early', '42.00']]);
    await eventually(() => w.metric('shopforce_sf_sink_outcomes_total{status="parked",sobject="Payment__c"}'), (n) => n >= 1, 60_000);
    assert.equal((await w.sf.query(`SELECT COUNT() FROM Payment__c WHERE Shop_Id__c = '${w.shopId}'`)).totalSize, 0, 'not written without its Opportunity');
    assert.equal(await w.opportunity('O-EARLY'), undefined);
    const dlq = await collectMessages(w.stack.kafka.brokers, [`${w.config.kafka.topicNamespace}.sync.dlq`], { until: () => false, timeoutMs: 2_000 });
    assert.deepEqual(dlq.map((m) => m.headers), [], 'nothing dead-lettered');

    await w.sf.sobject('Account').create({ Name: 'Ada Payer', Shop_Customer_Id__c: `${w.shopId}|C-O-EARLY` });
    const opp = await w.statusIs('O-EARLY', 'Paid', 42);
    assert.deepEqual(await w.paymentsOnceThere('O-EARLY', 1), [
      { Provider_Transaction_Id__c: `${w.shopId}|stripe|pi_early`, Opportunity__c: opp!.Id, Amount__c: 42, Status__c: 'Captured' },
    ]);
  });
});
