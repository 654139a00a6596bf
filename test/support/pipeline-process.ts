import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Connection } from 'jsforce';
import type { ShopforceConfig } from '../../src/config/schema.ts';
import type { SandboxHandle } from '../../src/sandbox/server.ts';
import { REPO_DIR } from '../../src/stack/context.ts';
import { skipShopHistory } from './pipeline.ts';

/** Output kept per process (the tail): enough for the warnings a test looks for. */
const MAX_OUTPUT = 2_000_000;

export interface PipelineProcessOptions {
  /** Extra environment of the child (LOG_LEVEL defaults to warn). */
  env?: Record<string, string>;
  /** How long waitReady() waits for /readyz (default 120 s). */
  readyTimeoutMs?: number;
  /**
   * Read the shop's CDC topics from their beginning (default false: the router's group starts at
   * their current end, so a test run does not replay every change other runs made to the shared shop).
   */
  shopHistory?: boolean;
}

/**
 * `shopforce run` as a child process, as an operator runs it: the config (what testPipelineConfig
 * gives) is written to a temp JSON file — secrets as ${VAR} references, their values in the child's
 * environment — and the process is started, killed and started again on demand. Each start is a
 * new process on a fresh metrics port; the config file, hence groups and topics, stays the same.
 */
export class PipelineProcess {
  readonly configFile: string;
  private readonly dir: string;
  private readonly env: NodeJS.ProcessEnv;
  private child?: ChildProcess;
  private exited?: Promise<number | null>;
  private out = '';
  private readyUrl?: string;
  private readonly logFile?: string;
  /** How many times the process was started. */
  starts = 0;

  constructor(readonly config: ShopforceConfig, private readonly opts: PipelineProcessOptions = {}) {
    this.dir = mkdtempSync(join(tmpdir(), 'shopforce-run-'));
    this.configFile = join(this.dir, 'shopforce.json');
    const file = structuredClone(config);
    const env: Record<string, string> = { SHOP_DATABASE_URL: config.shop.databaseUrl };
    file.shop.databaseUrl = '${SHOP_DATABASE_URL}';
    if (config.salesforce.clientSecret) { env.SF_CLIENT_SECRET = config.salesforce.clientSecret; file.salesforce.clientSecret = '${SF_CLIENT_SECRET}'; }
    if (config.salesforce.password) { env.SF_PASSWORD = config.salesforce.password; file.salesforce.password = '${SF_PASSWORD}'; }
    writeFileSync(this.configFile, JSON.stringify(file, null, 2));
    // SHOPFORCE_TEST_PIPELINE_LOG_LEVEL / SHOPFORCE_TEST_PIPELINE_LOG (a file): more of the child's logs, kept, when diagnosing
    this.env = { ...process.env, LOG_LEVEL: process.env.SHOPFORCE_TEST_PIPELINE_LOG_LEVEL ?? 'warn', KAFKAJS_NO_PARTITIONER_WARNING: '1', ...env, ...opts.env };
    this.logFile = process.env.SHOPFORCE_TEST_PIPELINE_LOG;
  }

  /** Changes the child's environment from the next start on (undefined removes a variable). */
  setEnv(vars: Record<string, string | undefined>): void {
    for (const [k, v] of Object.entries(vars)) {
      if (v === undefined) delete this.env[k];
      else this.env[k] = v;
    }
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Everything the process (all its starts) wrote to stdout and stderr (the last ~2 MB). */
  output(): string {
    return this.out;
  }

  /** /readyz of the current process (after waitReady). */
  get url(): string {
    if (!this.readyUrl) throw new Error('the pipeline process is not ready yet: call waitReady()');
    return this.readyUrl.replace(/\/readyz$/, '');
  }

  /** Spawns `node bin/shopforce.js run --config <file> --metrics-port 0`. */
  async start(): Promise<void> {
    if (this.running) throw new Error('the pipeline process is already running');
    if (this.starts === 0 && !this.opts.shopHistory) await skipShopHistory(this.config);
    this.readyUrl = undefined;
    this.starts += 1;
    const child = spawn(process.execPath, ['bin/shopforce.js', 'run', '--config', this.configFile, '--metrics-port', '0'], {
      cwd: REPO_DIR, env: this.env, stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.exited = once(child, 'exit').then(([code]) => code as number | null);
    const keep = (chunk: Buffer) => {
      this.out += chunk.toString('utf8');
      if (this.logFile) appendFileSync(this.logFile, chunk);
      if (this.out.length > MAX_OUTPUT) this.out = this.out.slice(-MAX_OUTPUT / 2);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    this.out += `\n--- start ${this.starts} (pid ${child.pid}) ---\n`;
    if (this.logFile) appendFileSync(this.logFile, `\n--- start ${this.starts} (pid ${child.pid}) ${new Date().toISOString()} ---\n`);
  }

  /** Waits until the process printed its /readyz URL and that answers 200; fails if it exits first. */
  async waitReady(timeoutMs = this.opts.readyTimeoutMs ?? 120_000): Promise<string> {
    const child = this.child;
    if (!child) throw new Error('the pipeline process was not started');
    const startMark = this.out.lastIndexOf(`--- start ${this.starts} `);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`the pipeline process exited (code ${child.exitCode}, signal ${child.signalCode}) before it was ready:\n${this.out.slice(startMark).slice(-4000)}`);
      const url = /\(ready: (\S+)\)/.exec(this.out.slice(startMark))?.[1];
      if (url) {
        const ok = await fetch(url).then((r) => r.ok, () => false);
        if (ok) {
          this.readyUrl = url;
          return url;
        }
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`the pipeline process was not ready after ${timeoutMs} ms:\n${this.out.slice(startMark).slice(-4000)}`);
  }

  /** Sends a signal and waits for the process to exit; resolves with its exit code (null when killed). */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    if (!this.running) return this.child?.exitCode ?? null;
    if (this.logFile) appendFileSync(this.logFile, `\n--- ${signal} ${new Date().toISOString()} ---\n`);
    this.child!.kill(signal);
    return this.exited!;
  }

  /** Resolves with the exit code (null when killed by a signal) once the current process ended by itself or was killed. */
  async exitedByItself(): Promise<number | null> {
    if (!this.exited) throw new Error('the pipeline process was not started');
    return this.exited;
  }

  /** SIGTERM: the pipeline finishes the records in hand, commits and exits. */
  stop(): Promise<number | null> {
    return this.kill('SIGTERM');
  }

  /** Starts the process again (after kill or stop) and waits until it is ready. */
  async restart(): Promise<string> {
    if (this.running) await this.stop();
    await this.start();
    return this.waitReady();
  }

  /** The Prometheus text of the current process. */
  async metrics(): Promise<string> {
    return (await fetch(`${this.url}/metrics`)).text();
  }

  /** Runs another shopforce command (drift, trace, ...) with this config file and environment, as an operator would. */
  async command(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child = spawn(process.execPath, ['bin/shopforce.js', ...args, '--config', this.configFile], { cwd: REPO_DIR, env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString('utf8'); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString('utf8'); });
    const [code] = await once(child, 'close');
    return { code: code as number | null, stdout, stderr };
  }

  /** Kills the process if it still runs and removes the config dir. */
  async cleanup(): Promise<void> {
    if (this.running) {
      this.child!.kill('SIGTERM');
      const timer = setTimeout(() => this.child?.kill('SIGKILL'), 20_000);
      await this.exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Polls `read` until it reaches `target`, or until it has not grown for `idleMs` (the pipeline has
 * nothing more in hand); returns the last value either way, for the assertions to judge.
 */
export async function untilDoneOrIdle(read: () => Promise<number>, target: number, idleMs = 60_000, intervalMs = 1_000): Promise<number> {
  let last = -1;
  let since = Date.now();
  for (;;) {
    const n = await read().catch(() => last);
    if (n >= target) return n;
    if (n !== last) { last = n; since = Date.now(); }
    if (Date.now() - since >= idleMs) return n;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Writes the config, starts `shopforce run` as a child and waits until it is ready. */
export async function startPipelineProcess(config: ShopforceConfig, opts: PipelineProcessOptions = {}): Promise<PipelineProcess> {
  const p = new PipelineProcess(config, opts);
  await p.start();
  try {
    await p.waitReady();
  } catch (err) {
    await p.cleanup();
    throw err;
  }
  return p;
}

/** The Salesforce settings testPipelineConfig needs to reach an in-process emulator. */
export function sandboxEnv(t: { sb: SandboxHandle }): Record<string, string> {
  return {
    SF_LOGIN_URL: t.sb.loginUrl, SF_CLIENT_ID: t.sb.credentials.clientId, SF_USERNAME: t.sb.credentials.username,
    SF_PRIVATE_KEY_PATH: t.sb.credentials.jwtPrivateKeyPath, SF_PUBSUB_ENDPOINT: t.sb.pubSubEndpoint, SF_CA_CERT_PATH: t.sb.caCertPath,
  };
}

/** Every record of a SOQL query (follows nextRecordsUrl). */
export async function queryAll<T extends Record<string, unknown>>(conn: Connection, soql: string): Promise<T[]> {
  let res = await conn.query<T>(soql);
  const records = [...res.records];
  while (!res.done && res.nextRecordsUrl) {
    res = await conn.queryMore<T>(res.nextRecordsUrl);
    records.push(...res.records);
  }
  return records;
}
