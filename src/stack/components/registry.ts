import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { ComponentStatus, StackComponent, StackContext } from '../component.ts';
import { PrerequisiteError } from '../component.ts';
import { requireTool, runCommand } from '../artifacts.ts';
import { requireJava17 } from '../java.ts';
import { assertPortFree, isAlive, portOpen, readPid, startDaemon, stopDaemon, waitUntil } from '../process.ts';
import { postgresAdminUrl } from './postgres.ts';

/**
 * The schema registry of the local stack: Apicurio Registry, a third-party Quarkus server that speaks
 * the Confluent Schema Registry API under /apis/ccompat/v7. It keeps its schemas in the stack's
 * PostgreSQL (database `registry`, role `registry`), so they survive a restart of the registry.
 *
 * 3.0.x is the newest Apicurio line that runs on Java 17; 3.3.x needs Java 21.
 */
export const APICURIO_VERSION = '3.0.9';

/** Base path of the Confluent-compatible API: clients use `registryUrl(ctx)`. */
export const REGISTRY_API_PATH = '/apis/ccompat/v7';

export const REGISTRY_DATABASE = 'registry';
const REGISTRY_ROLE = 'registry';
const REGISTRY_PASSWORD = 'registry';

/** Small heap, serial GC and C1 only: a dev registry at rest stays near 150 MB RSS. */
const DEFAULT_JAVA_OPTS = ['-XX:+UseSerialGC', '-Xms32m', '-Xmx256m', '-XX:TieredStopAtLevel=1'];

const dir = (ctx: StackContext) => join(ctx.stateDir, 'registry');
const pidFile = (ctx: StackContext) => join(dir(ctx), 'registry.pid');
const installDir = (ctx: StackContext) => join(ctx.cacheDir, 'registry', `apicurio-registry-${APICURIO_VERSION}`);
const runnerJar = (home: string) => join(home, `apicurio-registry-app-${APICURIO_VERSION}-runner.jar`);

/** The Confluent-compatible base URL, e.g. http://127.0.0.1:58081/apis/ccompat/v7. */
export function registryUrl(ctx: StackContext): string {
  return `http://127.0.0.1:${ctx.ports.registry}${REGISTRY_API_PATH}`;
}

/** JDBC settings the registry uses for its storage. */
export function registryJdbcUrl(ctx: StackContext): string {
  return `jdbc:postgresql://127.0.0.1:${ctx.ports.postgres}/${REGISTRY_DATABASE}`;
}

/**
 * Folder of the unpacked Apicurio application, fetched once from Maven Central (Maven's ~/.m2 is
 * the download cache) and unpacked into the artifact cache; later calls only check it is there.
 */
export async function registryHome(ctx: StackContext): Promise<string> {
  const home = join(installDir(ctx), 'app');
  if (existsSync(join(home, '.complete')) && existsSync(runnerJar(home))) return home;

  requireTool('mvn', 'Apache Maven is needed to fetch Apicurio Registry from Maven Central', 'apt-get install maven');
  requireTool('tar', 'tar is needed to unpack Apicurio Registry', 'apt-get install tar');
  const started = Date.now();
  const work = `${installDir(ctx)}.tmp-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(work, 'app'), { recursive: true });
  ctx.say(`fetching Apicurio Registry ${APICURIO_VERSION} from Maven Central into ${installDir(ctx)} (once; later starts reuse it)`);
  try {
    const pom = join(ctx.repoDir, 'stack', 'registry', 'pom.xml');
    const fetched = await runCommand('mvn', ['-B', '-q', '-f', pom, 'dependency:copy@apicurio', `-Dapicurio.version=${APICURIO_VERSION}`, `-Dregistry.outputDirectory=${work}`]);
    if (fetched.code !== 0) {
      throw new PrerequisiteError(
        `could not fetch io.apicurio:apicurio-registry-app:${APICURIO_VERSION} (tar.gz, classifier all) with Maven (exit ${fetched.code}):\n${lastLines(fetched.text)}`,
        'check that Maven Central is reachable (proxy settings in ~/.m2/settings.xml) and retry `shopforce stack up`',
      );
    }
    const tarball = join(work, 'apicurio-registry-app.tar.gz');
    const unpacked = await runCommand('tar', ['-xzf', tarball, '-C', join(work, 'app')]);
    if (unpacked.code !== 0 || !existsSync(runnerJar(join(work, 'app')))) {
      throw new Error(`could not unpack ${tarball} (exit ${unpacked.code}): ${lastLines(unpacked.text) || `no ${runnerJar('')} inside`}`);
    }
    rmSync(tarball); // Maven keeps its own copy in ~/.m2
    writeFileSync(join(work, 'app', '.complete'), new Date().toISOString());
    // a concurrent `stack up` may have finished first: keep its copy, drop ours
    if (!existsSync(join(home, '.complete'))) {
      rmSync(installDir(ctx), { recursive: true, force: true });
      renameSync(work, installDir(ctx));
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  ctx.say(`fetched Apicurio Registry ${APICURIO_VERSION} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return home;
}

/** Creates the `registry` role and database in the stack's PostgreSQL when they are missing. */
export async function ensureRegistryDatabase(ctx: StackContext): Promise<void> {
  if (!(await portOpen(ctx.ports.postgres))) {
    throw new PrerequisiteError(
      `PostgreSQL is not answering on 127.0.0.1:${ctx.ports.postgres}; the schema registry keeps its schemas there`,
      'start PostgreSQL first (`shopforce stack up` starts it before the registry), or set SHOPFORCE_PG_PORT to its port',
    );
  }
  const client = new pg.Client({ connectionString: postgresAdminUrl(ctx, 'postgres'), connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    const role = await client.query('select 1 from pg_roles where rolname = $1', [REGISTRY_ROLE]);
    if (!role.rowCount) await ignoreDuplicate(client.query(`create role ${REGISTRY_ROLE} login password '${REGISTRY_PASSWORD}'`));
    const db = await client.query('select 1 from pg_database where datname = $1', [REGISTRY_DATABASE]);
    if (!db.rowCount) await ignoreDuplicate(client.query(`create database ${REGISTRY_DATABASE} owner ${REGISTRY_ROLE}`));
  } finally {
    await client.end();
  }
}

/** Another `stack up` may have created the same object a moment earlier: that is fine. */
async function ignoreDuplicate(query: Promise<unknown>): Promise<void> {
  try {
    await query;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code !== '42710' && code !== '42P04') throw err; // duplicate_object, duplicate_database
  }
}

/** Ready = Quarkus reports every readiness check UP (HTTP, storage, database connection). */
async function ready(ctx: StackContext): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${ctx.ports.registry}/health/ready`, { signal: AbortSignal.timeout(2000) });
    if (!res.ok) return false;
    const body = (await res.json()) as { status?: string };
    return body.status === 'UP';
  } catch {
    return false;
  }
}

function javaArgs(ctx: StackContext, home: string): string[] {
  const extra = process.env.SHOPFORCE_REGISTRY_JAVA_OPTS?.split(/\s+/).filter(Boolean) ?? [];
  return [
    ...DEFAULT_JAVA_OPTS,
    ...extra,
    '-Dquarkus.http.host=127.0.0.1',
    `-Dquarkus.http.port=${ctx.ports.registry}`,
    '-Dapicurio.storage.kind=sql',
    '-Dapicurio.storage.sql.kind=postgresql',
    `-Dapicurio.datasource.url=${registryJdbcUrl(ctx)}`,
    `-Dapicurio.datasource.username=${REGISTRY_ROLE}`,
    // the default pool keeps 20 connections open; a dev registry needs a few
    '-Dapicurio.datasource.jdbc.initial-size=2',
    '-Dapicurio.datasource.jdbc.min-size=2',
    '-Dapicurio.datasource.jdbc.max-size=10',
    `-Dapicurio.storage.snapshot.location=${dir(ctx)}`,
    '-jar',
    runnerJar(home),
  ];
}

export const registry: StackComponent = {
  name: 'registry',

  async prepare(ctx) {
    requireJava17();
    await registryHome(ctx);
  },

  async start(ctx) {
    const java = requireJava17();
    const home = await registryHome(ctx);
    await assertPortFree(ctx.ports.registry, 'the schema registry', 'SHOPFORCE_REGISTRY_PORT');
    await ensureRegistryDatabase(ctx);
    mkdirSync(dir(ctx), { recursive: true });
    const pid = startDaemon({
      command: java,
      args: javaArgs(ctx, home),
      // the password goes through the environment, not the command line `ps` shows
      env: { APICURIO_DATASOURCE_PASSWORD: REGISTRY_PASSWORD },
      cwd: dir(ctx),
      logFile: this.logFile(ctx),
      pidFile: pidFile(ctx),
    });
    await waitUntil('schema registry (Apicurio)', () => ready(ctx), { timeoutMs: 120_000, logFile: this.logFile(ctx), pid });
  },

  async health(ctx) {
    return ready(ctx);
  },

  async status(ctx): Promise<ComponentStatus> {
    const pid = readPid(pidFile(ctx));
    return {
      name: 'registry',
      port: ctx.ports.registry,
      healthy: await ready(ctx),
      pid: isAlive(pid) ? pid : undefined,
      address: registryUrl(ctx),
      detail: `Apicurio Registry ${APICURIO_VERSION}, Confluent API at ${REGISTRY_API_PATH}, schemas in PostgreSQL database ${REGISTRY_DATABASE}`,
    };
  },

  async stop(ctx) {
    await stopDaemon(pidFile(ctx), 20_000);
  },

  logFile(ctx) {
    return join(dir(ctx), 'registry.log');
  },
};

function lastLines(text: string, count = 15): string {
  return text.trimEnd().split('\n').slice(-count).join('\n');
}
