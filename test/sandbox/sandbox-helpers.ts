import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import jsforce, { type Connection } from 'jsforce';
import { StreamingExtension } from 'jsforce/api/streaming';
import jwt from 'jsonwebtoken';
import PubSubApiClient from 'salesforce-pubsub-api-client';
import { startSandbox, type SandboxConfig, type SandboxHandle } from '../../src/sandbox/server.ts';

export const API_VERSION = '60.0';

export interface TestSandbox {
  sb: SandboxHandle;
  dataDir: string;
  /** Stops the sandbox and removes its data dir. */
  cleanup(): Promise<void>;
}

/** A sandbox in a fresh temp dir on ephemeral ports. */
export async function startTestSandbox(config: Partial<SandboxConfig> = {}, dataDir?: string): Promise<TestSandbox> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'sbx-test-'));
  const sb = await startSandbox({ dataDir: dir, logLevel: 'silent', ...config });
  return {
    sb,
    dataDir: dir,
    async cleanup() {
      await sb.stop();
      if (!dataDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * For a describe block: a sandbox org started before its tests, with a JWT connection to it, and
 * stopped after them.
 */
export function useTestSandbox(): { readonly t: TestSandbox; readonly conn: Connection } {
  let t: TestSandbox | undefined;
  let conn: Connection | undefined;
  before(async () => {
    t = await startTestSandbox();
    conn = await jwtConnection(t.sb);
  });
  after(async () => { await t?.cleanup(); });
  const started = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error('useTestSandbox: the sandbox is started in the before hook');
    return v;
  };
  return { get t() { return started(t); }, get conn() { return started(conn); } };
}

export function jwtAssertion(sb: SandboxHandle, overrides: Record<string, unknown> = {}): string {
  const key = readFileSync(sb.credentials.jwtPrivateKeyPath, 'utf8');
  return jwt.sign(
    { iss: sb.credentials.clientId, sub: sb.credentials.username, aud: sb.loginUrl, exp: Math.floor(Date.now() / 1000) + 300, ...overrides },
    key,
    { algorithm: 'RS256' },
  );
}

/**
 * A jsforce connection logged in with the JWT bearer flow; refreshFn re-runs that flow. Its Bulk
 * API 2.0 polls every 20 ms (the emulator finishes jobs at once), for 20 s at most.
 */
export async function jwtConnection(sb: SandboxHandle, opts: { callOptions?: Record<string, string> } = {}): Promise<Connection> {
  const conn = new jsforce.Connection({
    oauth2: { loginUrl: sb.loginUrl, clientId: sb.credentials.clientId },
    version: API_VERSION,
    callOptions: opts.callOptions,
    refreshFn: (c, callback) => {
      c.oauth2.requestToken({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: jwtAssertion(sb) })
        .then((res) => callback(null, res.access_token, res))
        .catch((err: Error) => callback(err));
    },
  });
  await conn.authorize({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: jwtAssertion(sb) });
  conn.bulk2.pollInterval = 20;
  conn.bulk2.pollTimeout = 20_000;
  return conn;
}

/** Resolves to the error a promise rejects with (fails when it resolves). */
export async function rejectionOf(p: PromiseLike<unknown>): Promise<Error & { errorCode?: string; name: string; data?: unknown }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { errorCode?: string };
  }
  throw new Error('expected the call to fail, it succeeded');
}

export async function waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Every record of a jsforce Bulk API 2.0 query result stream. */
export async function collect(stream: AsyncIterable<unknown>): Promise<Array<Record<string, unknown>>> {
  const out: Array<Record<string, unknown>> = [];
  for await (const record of stream) out.push(record as Record<string, unknown>);
  return out;
}

/**
 * Runs fn while jsforce streaming is subscribed to a change event channel from the earliest event
 * kept (replay -2); `events` fills as they arrive. Disconnects afterwards.
 */
export async function withCometdEvents<T>(conn: Connection, channel: string, fn: (events: any[]) => Promise<T>): Promise<T> {
  const events: any[] = [];
  const client = conn.streaming.createClient([new StreamingExtension.Replay(channel, -2)]);
  const sub = client.subscribe(channel, (m: any) => events.push(m));
  try {
    return await fn(events);
  } finally {
    sub.cancel();
    (client as unknown as { disconnect(): void }).disconnect();
    // let the /meta/disconnect reach the server, or faye keeps retrying it after the server is gone
    await new Promise((r) => setTimeout(r, 200));
  }
}

const quietLog = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * Runs fn while salesforce-pubsub-api-client (JWT bearer login) is subscribed to a channel from the
 * earliest event kept; `events` fills as they arrive. Closes the client afterwards.
 */
export async function withPubSubEvents<T>(sb: SandboxHandle, channel: string, fn: (events: any[]) => Promise<T>): Promise<T> {
  const pubsub = new PubSubApiClient({
    authType: 'oauth-jwt-bearer', loginUrl: sb.loginUrl, clientId: sb.credentials.clientId, username: sb.credentials.username,
    privateKey: readFileSync(sb.credentials.jwtPrivateKeyPath, 'utf8'), pubSubEndpoint: sb.pubSubEndpoint, rejectUnauthorizedSsl: false,
  } as any, quietLog as any);
  const events: any[] = [];
  try {
    await pubsub.connect();
    pubsub.subscribeFromEarliestEvent(channel, (_s: unknown, type: string, data?: any) => { if (type === 'event') events.push(data); }, 100);
    return await fn(events);
  } finally {
    pubsub.close();
  }
}

/** The admin API over HTTP, as the CLI and benchmarks use it. */
export async function adminCall(sb: SandboxHandle, method: string, path: string, body?: unknown, token = sb.admin.token): Promise<{ status: number; body: any }> {
  const res = await fetch(`${sb.admin.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}
