import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { resolvePorts } from '../../stack/context.ts';
import { redactUrl } from '../../shop/db.ts';
import { seedShop, type SeedProgress } from '../../shop/seed/index.ts';

/** Rows above which a progress bar is drawn. */
const PROGRESS_THRESHOLD = 20_000;

/** The shop role URL of the native stack (SHOPFORCE_PG_URL wins). */
export function defaultShopUrl(env: NodeJS.ProcessEnv = process.env): string {
  return env.SHOPFORCE_PG_URL ?? `postgres://shopforce:shopforce@127.0.0.1:${resolvePorts(env).postgres}/shop`;
}

function wholeNumber(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n)) throw new Error(`--${name} ${value}: expected a whole number`);
    return n;
  };
}

export function register(program: Command): void {
  program
    .command('seed')
    .description('fill the shop database with deterministic sample data (idempotent: existing business keys are kept)')
    .option('--customers <n>', 'number of customers', wholeNumber('customers'))
    .option('--products <n>', 'number of products', wholeNumber('products'))
    .option('--orders <n>', 'number of orders (lines, payments, invoices and tickets follow)', wholeNumber('orders'))
    .option('--warehouses <n>', 'number of warehouses (stock per product and warehouse)', wholeNumber('warehouses'))
    .option('--seed <s>', 'random seed: the same options and seed give the same rows', wholeNumber('seed'))
    .option('--shop-id <id>', 'shop id written to every row')
    .option('--url <url>', 'PostgreSQL URL (default: the stack\'s shopforce role, or SHOPFORCE_PG_URL)')
    .action(async (opts: { customers?: number; products?: number; orders?: number; warehouses?: number; seed?: number; shopId?: string; url?: string }) => {
      const url = opts.url ?? defaultShopUrl();
      let bar: cliProgress.SingleBar | undefined;
      const onProgress = (p: SeedProgress) => {
        if (p.total < PROGRESS_THRESHOLD) return;
        if (!bar) {
          bar = new cliProgress.SingleBar({ format: 'seeding {bar} {percentage}% | {value}/{total} rows | {table}', stream: process.stderr }, cliProgress.Presets.shades_classic);
          bar.start(p.total, 0, { table: p.table });
        }
        bar.update(p.done, { table: p.table });
      };
      try {
        const { customers, products, orders, warehouses, seed, shopId } = opts;
        const result = await seedShop(url, { customers, products, orders, warehouses, seed, shopId }, onProgress);
        bar?.stop();
        const lines = Object.entries(result.tables)
          .map(([t, c]) => `  ${t.padEnd(18)} ${String(c.inserted).padStart(9)} new of ${c.generated}`);
        process.stdout.write(`seeded ${redactUrl(url)} in ${result.ms} ms (seed ${result.options.seed}, shop ${result.options.shopId})\n${lines.join('\n')}\n`);
      } finally {
        bar?.stop();
      }
    });
}
