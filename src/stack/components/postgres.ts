import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { ComponentStatus, StackComponent, StackContext } from '../component.ts';
import { PrerequisiteError } from '../component.ts';
import { assertPortFree, isAlive, readPid, startDaemon, stopDaemon, waitUntil, which } from '../process.ts';

export const SHOP_DATABASE = 'shop';

/**
 * WAL a replication slot may hold back (PostgreSQL 13+): past it, PostgreSQL invalidates the slot
 * (wal_status 'lost', Debezium must snapshot again) instead of filling its disk while Kafka Connect is
 * down. On the command line, so a stack made before the setting existed gets it too.
 */
export const MAX_SLOT_WAL_KEEP_SIZE = '2GB';

const dir = (ctx: StackContext) => join(ctx.stateDir, 'postgres');
const dataDir = (ctx: StackContext) => join(dir(ctx), 'data');
const pidFile = (ctx: StackContext) => join(dir(ctx), 'postgres.pid');

/** Superuser URL (trust on loopback): migrations, role management, tests' checks. */
export function postgresAdminUrl(ctx: StackContext, database = SHOP_DATABASE): string {
  return `postgres://postgres@127.0.0.1:${ctx.ports.postgres}/${database}`;
}

/** The application role that may write the shop tables. */
export function postgresAppUrl(ctx: StackContext): string {
  return `postgres://shopforce:shopforce@127.0.0.1:${ctx.ports.postgres}/${SHOP_DATABASE}`;
}

/** Finds the PostgreSQL server binaries: on PATH, or the newest /usr/lib/postgresql/<v>/bin. */
export function postgresBinDir(): string {
  const initdb = which('initdb');
  if (initdb) {
    const real = execFileSync('readlink', ['-f', initdb], { encoding: 'utf8' }).trim();
    return real.slice(0, real.lastIndexOf('/'));
  }
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'postgres'))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (versions.length === 0) {
    throw new PrerequisiteError('PostgreSQL server binaries (initdb, postgres) not found', 'apt-get install postgresql (any version 13 or newer)');
  }
  return join(root, versions[0]!, 'bin');
}

/** PostgreSQL refuses to run as root: as root, run it as the `postgres` system user. */
function asServerUser(command: string, args: string[]): { command: string; args: string[] } {
  if (process.getuid?.() !== 0) return { command, args };
  try {
    execFileSync('id', ['postgres'], { stdio: 'ignore' });
  } catch {
    throw new PrerequisiteError('running as root, but there is no `postgres` system user to run the server as', 'apt-get install postgresql (creates the user), or run shopforce as a non-root user');
  }
  return { command: 'runuser', args: ['-u', 'postgres', '--', command, ...args] };
}

function chownToServerUser(path: string): void {
  if (process.getuid?.() !== 0) return;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
  chownSync(path, uid, gid);
}

function initCluster(ctx: StackContext, bin: string): void {
  mkdirSync(dir(ctx), { recursive: true });
  chownToServerUser(dir(ctx));
  const init = asServerUser(join(bin, 'initdb'), ['-D', dataDir(ctx), '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C']);
  try {
    execFileSync(init.command, init.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err: any) {
    throw new Error(`initdb failed for ${dataDir(ctx)}: ${String(err.stderr ?? err.message).trim()}\n  (as root, the postgres user must be able to enter every parent folder of the state folder)`, { cause: err });
  }
  const conf = join(dataDir(ctx), 'postgresql.conf');
  appendFileSync(conf, [
    '', '# shopforce local stack',
    "listen_addresses = '127.0.0.1'",
    `port = ${ctx.ports.postgres}`,
    "unix_socket_directories = ''",
    'wal_level = logical',
    'max_wal_senders = 10',
    'max_replication_slots = 10',
    'max_connections = 200',
    'shared_buffers = 128MB',
    'fsync = on',
    "timezone = 'UTC'",
    '',
  ].join('\n'));
  writeFileSync(join(dataDir(ctx), 'pg_hba.conf'), [
    '# TYPE  DATABASE     USER      ADDRESS        METHOD',
    'host    all          postgres  127.0.0.1/32   trust',
    'host    replication  postgres  127.0.0.1/32   trust',
    'host    all          all       127.0.0.1/32   scram-sha-256',
    'host    replication  all       127.0.0.1/32   scram-sha-256',
    '',
  ].join('\n'));
}

async function answers(ctx: StackContext, database = 'postgres'): Promise<boolean> {
  const client = new pg.Client({ connectionString: postgresAdminUrl(ctx, database), connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

export const postgres: StackComponent = {
  name: 'postgres',

  async prepare() {
    postgresBinDir();
  },

  async start(ctx) {
    const bin = postgresBinDir();
    await assertPortFree(ctx.ports.postgres, 'PostgreSQL', 'SHOPFORCE_PG_PORT');
    if (!existsSync(join(dataDir(ctx), 'PG_VERSION'))) initCluster(ctx, bin);
    const server = asServerUser(join(bin, 'postgres'), ['-D', dataDir(ctx), '-p', String(ctx.ports.postgres), '-c', `max_slot_wal_keep_size=${MAX_SLOT_WAL_KEEP_SIZE}`]);
    const pid = startDaemon({ command: server.command, args: server.args, logFile: this.logFile(ctx), pidFile: pidFile(ctx) });
    await waitUntil('PostgreSQL', () => answers(ctx), { timeoutMs: 60_000, logFile: this.logFile(ctx), pid });
  },

  async health(ctx) {
    return answers(ctx);
  },

  async status(ctx): Promise<ComponentStatus> {
    const pid = readPid(pidFile(ctx));
    return { name: 'postgres', port: ctx.ports.postgres, healthy: await answers(ctx), pid: isAlive(pid) ? pid : undefined, address: postgresAppUrl(ctx), detail: `PostgreSQL (${postgresBinDir()}), wal_level=logical, max_slot_wal_keep_size=${MAX_SLOT_WAL_KEEP_SIZE}` };
  },

  async stop(ctx) {
    // SIGINT = fast shutdown: does not wait for Debezium's replication connection to go away
    await stopDaemon(pidFile(ctx), 30_000, 'SIGINT');
  },

  logFile(ctx) {
    return join(dir(ctx), 'postgres.log');
  },
};
