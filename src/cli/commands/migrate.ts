import type { Command } from 'commander';
import { resolvePorts } from '../../stack/context.ts';
import { bootstrapShop } from '../../shop/bootstrap.ts';
import { redactUrl } from '../../shop/db.ts';
import { migrate } from '../../shop/migrate.ts';

/** Superuser URL of the native stack's shop database. */
export function defaultAdminUrl(env: NodeJS.ProcessEnv = process.env): string {
  return env.SHOPFORCE_PG_ADMIN_URL ?? `postgres://postgres@127.0.0.1:${resolvePorts(env).postgres}/shop`;
}

export function register(program: Command): void {
  program
    .command('migrate')
    .description('apply the shop schema migrations (src/shop/migrations) not yet applied')
    .option('--url <url>', 'PostgreSQL URL of a role that may create tables (default: the stack\'s superuser URL, or SHOPFORCE_PG_ADMIN_URL)')
    .option('--bootstrap', 'as a superuser: also create the database if missing, the shopforce/debezium roles and their grants')
    .action(async (opts: { url?: string; bootstrap?: boolean }) => {
      const url = opts.url ?? defaultAdminUrl();
      const result = opts.bootstrap ? await bootstrapShop(url) : await migrate(url);
      const applied = result.applied.length ? result.applied.join(', ') : 'none';
      process.stdout.write(
        `${redactUrl(url)}: applied ${applied}; ${result.alreadyApplied.length} already applied` +
        `${opts.bootstrap ? '; roles and grants in place' : ''}\n`,
      );
    });
}
