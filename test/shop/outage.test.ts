import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { ShopWrite } from '../../src/entities/types.ts';
import { classifyError } from '../../src/kafka/errors.ts';
import { StagePause, type PauseState } from '../../src/kafka/stage-pause.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { OwnTransactions } from '../../src/shop/sink/own-transactions.ts';
import { ShopSink } from '../../src/shop/sink/shop-sink.ts';
import { createTestDatabase, type TestDatabase } from './support.ts';

/**
 * The shop database as the pipeline reaches it, through a door that can be shut: shut, new
 * connections are refused (ECONNREFUSED) and open ones are cut ("Connection terminated"), as in a
 * PostgreSQL restart; opened again, on the same port.
 */
class Door {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async open(): Promise<void> {
    if (this.server) return;
    const server = net.createServer((inbound) => {
      const outbound = net.connect(this.target);
      for (const s of [inbound, outbound]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => { inbound.destroy(); outbound.destroy(); });
      }
      inbound.pipe(outbound).pipe(inbound);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  async shut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }

  /** The URL through the door. */
  url(direct: string): string {
    const u = new URL(direct);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }
}

// The shop database restarting under the pipeline: the shop sink and the router's "was this our own
// write?" lookup must wait for it (the stage pauses), never fail the record, which the batch sink and
// the router would dead-letter once their short retry budget ran out.
describe('shop database outage', () => {
  let db: TestDatabase;
  let door: Door;
  let pool: pg.Pool;
  let direct: pg.Pool;
  const log = createLogger('test.shop-outage');

  before(async () => {
    db = await createTestDatabase('outage');
    const u = new URL(db.appUrl);
    door = new Door({ host: u.hostname, port: Number(u.port || 5432) });
    await door.open();
    pool = new pg.Pool({ connectionString: door.url(db.appUrl), max: 2, connectionTimeoutMillis: 2_000 });
    pool.on('error', () => undefined); // an idle connection cut by the door (the pipeline logs it)
    direct = new pg.Pool({ connectionString: db.appUrl, max: 1 });
  });
  after(async () => {
    await door?.shut();
    await pool?.end();
    await direct?.end();
    await db?.drop();
  });

  test('the shop sink meeting the database down pauses the stage, and the write lands once when it is back', async () => {
    const sink = new ShopSink(pool);
    const cmd: ShopWrite = {
      commandId: 'cmd-outage-1', shopId: 'shop-1', entity: 'product', key: 'shop-1|OUT-1', sourcePosition: 'sf:1',
      transactionId: 'tx-1', eventTime: 1_000, operation: 'UPSERT', sequence: 0, table: 'products', keyColumns: ['shop_id', 'sku'],
      row: { shop_id: 'shop-1', sku: 'OUT-1', name: 'Product OUT-1', price: '3.50', currency: 'EUR', active: true },
      sourceVersion: null, parentKeys: [],
    };
    // a connection the pool holds, cut by the outage, and new ones refused
    await pool.query('SELECT 1');
    await door.shut();
    const paused: PauseState[] = [];
    const stage = new StagePause({ stage: 'shop-sink', log, minDelayMs: 100, maxDelayMs: 400, onPause: (s) => paused.push(s) });
    let settled = false;
    const landed = stage.run(() => sink.write([cmd])).finally(() => { settled = true; });
    try {
      while ((stage.state()?.attempts ?? 0) < 3) {
        assert.equal(settled, false, 'the write did not end while the database was down');
        await sleep(50);
      }
      assert.match(paused[0]!.reason, /shop database unavailable/);
      await door.open();
      const [outcome] = await landed;
      assert.equal(outcome?.status, 'applied');
      assert.equal(stage.state(), undefined, 'resumed by itself');
      const { rows } = await direct.query("SELECT price::text AS price FROM products WHERE sku = 'OUT-1'");
      assert.deepEqual(rows, [{ price: '3.50' }]);
      assert.equal((await sink.write([cmd]))[0]?.status, 'duplicate', 'the command is known as applied');
    } finally {
      stage.stop();
      await landed.catch(() => undefined);
      await door.open();
    }
  });

  test('the router asking whether a change was our own write, with the database down, gets an error that pauses it', async () => {
    const own = new OwnTransactions(pool);
    await pool.query('SELECT 1');
    await door.shut();
    try {
      const err = await own.isOurs('123456').then(() => undefined, (e: unknown) => e);
      assert.ok(err, 'no answer is made up while the database is down');
      assert.equal(classifyError(err), 'infrastructure', `${String(err)} pauses the router instead of being retried a few times and dead-lettered`);
    } finally {
      await door.open();
    }
    assert.equal(await own.isOurs('123456'), false, 'answered once the database is back');
  });
});
