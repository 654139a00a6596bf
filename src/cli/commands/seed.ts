import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { resolvePorts } from '../../stack/context.ts';
import { redactUrl } from '../../shop/db.ts';
import { seedShop, type SeedProgress, type SeedOptionsInput } from '../../shop/seed/index.ts';
import { connectSalesforce } from '../../salesforce/auth/connection.ts';
import { sandboxStockAdjuster } from '../../seed/org-records.ts';
import { seedStory } from '../../seed/story.ts';
import { resolveConfig } from '../run-config.ts';

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

interface SeedCliOptions {
  customers?: number; products?: number; orders?: number; warehouses?: number; seed?: number; shopId?: string; url?: string;
  shopOnly?: boolean; config?: string; wait?: number;
}

/** The shop alone, every table (products included): a shop database without an org. */
async function seedShopOnly(url: string, options: SeedOptionsInput): Promise<void> {
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
    const result = await seedShop(url, options, onProgress);
    bar?.stop();
    const lines = Object.entries(result.tables).map(([t, c]) => `  ${t.padEnd(18)} ${String(c.inserted).padStart(9)} new of ${c.generated}`);
    process.stdout.write(`seeded ${redactUrl(url)} in ${result.ms} ms (seed ${result.options.seed}, shop ${result.options.shopId})\n${lines.join('\n')}\n`);
  } finally {
    bar?.stop();
  }
}

export function register(program: Command): void {
  program
    .command('seed')
    .description('sample data on each side, what it masters, in the order a business makes it: the org\'s catalogue, then the shop\'s customers, orders, payments, tickets and stock, then the org\'s invoices, campaigns and stock corrections (needs `shopforce run`: it waits for the sync between the steps)')
    .option('--customers <n>', 'number of customers', wholeNumber('customers'))
    .option('--products <n>', 'number of products', wholeNumber('products'))
    .option('--orders <n>', 'number of orders (lines, payments, invoices and tickets follow)', wholeNumber('orders'))
    .option('--warehouses <n>', 'number of warehouses (stock per product and warehouse)', wholeNumber('warehouses'))
    .option('--seed <s>', 'random seed: the same options and seed give the same rows', wholeNumber('seed'))
    .option('--shop-id <id>', 'shop id written to every row (default: the configuration\'s shopId)')
    .option('-c, --config <file>', 'the org and shop of this configuration (default: the local sandbox, started if needed, with examples/shopforce.sandbox.yaml)')
    .option('--wait <seconds>', 'how long to wait for the sync at each step', wholeNumber('wait'), 300)
    .option('--shop-only', 'the shop database alone, every table (products, invoices and segments too): a shop without an org')
    .option('--url <url>', 'PostgreSQL URL of the shop (default: the configuration\'s, or with --shop-only the stack\'s shopforce role / SHOPFORCE_PG_URL)')
    .action(async (opts: SeedCliOptions) => {
      const { customers, products, orders, warehouses, seed } = opts;
      if (opts.shopOnly) {
        await seedShopOnly(opts.url ?? defaultShopUrl(), { customers, products, orders, warehouses, seed, shopId: opts.shopId });
        return;
      }
      const { config, env } = await resolveConfig(opts.config ? { config: opts.config } : { sandbox: true });
      const shopUrl = opts.url ?? config.shop.databaseUrl;
      // the org's records are made as its people and its ERP would make them, not by our integration:
      // a call under our client name comes back marked as our own write and would not be synced
      const conn = await connectSalesforce({ ...config.salesforce, callOptionsClient: `${config.salesforce.callOptionsClient}-seed` });
      const adjustStock = env.SF_ADMIN_URL && env.SF_ADMIN_TOKEN ? sandboxStockAdjuster(env.SF_ADMIN_URL, env.SF_ADMIN_TOKEN) : undefined;
      const report = await seedStory({ shopUrl, conn, adjustStock, waitMs: (opts.wait ?? 300) * 1000, say: (line) => process.stderr.write(`${line}\n`) },
        { customers, products, orders, warehouses, seed, shopId: opts.shopId ?? config.shopId });
      const shop = Object.entries(report.shop.tables).filter(([, c]) => c.generated > 0).map(([t, c]) => `${t} ${c.inserted}/${c.generated}`).join(', ');
      process.stdout.write([
        `seeded shop ${report.options.shopId} (${redactUrl(shopUrl)}) and the org ${config.salesforce.loginUrl} in ${(report.ms / 1000).toFixed(1)} s (seed ${report.options.seed})`,
        `  org:  ${report.catalogue.products} products (${report.catalogue.entriesCreated} new standard prices), ${report.invoices} invoices, ${report.campaigns} campaigns with ${report.members} new members, ${report.stockCorrections.length} stock corrections`,
        `  shop: ${shop} (new/generated)`,
        '',
      ].join('\n'));
    });
}
