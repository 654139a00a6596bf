/**
 * Shared set-up for the CDC tests: a small org model, a stub token check, a self-signed TLS pair,
 * a CDC hub mounted on a plain HTTP server with a stub OAuth token/userinfo endpoint (until the
 * emulator's real OAuth server mounts the hub), and transaction builders.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import jwt from 'jsonwebtoken';
import { generate } from 'selfsigned';
import type { AuthSession } from '../../src/sandbox/auth/session.ts';
import type { CommittedTransaction, RecordChange } from '../../src/sandbox/cdc/change-event.ts';
import { createCdcHub, type CdcHub, type CdcHubOptions } from '../../src/sandbox/cdc/index.ts';
import type { OrgModel } from '../../src/sandbox/model/types.ts';
import { createLogger } from '../../src/observability/logger.ts';

export const ORG_ID = '00D5g000000AbCdEAF';
export const USER_ID = '0055g000000XyZaAAB';
export const USERNAME = 'integration@shop.example';
export const GOOD_TOKEN = `${ORG_ID}!AQ0AQ.test-token`;
export const API_VERSION = '60.0';

export const testModel: OrgModel = {
  objects: [
    {
      name: 'Account', label: 'Account', keyPrefix: '001', fields: [
        { name: 'Id', type: 'id' },
        { name: 'Name', type: 'string', length: 255, required: true },
        { name: 'Industry', type: 'picklist', picklistValues: ['Retail', 'Energy'] },
        { name: 'AnnualRevenue', type: 'currency' },
        { name: 'NumberOfEmployees', type: 'int' },
        { name: 'Shop_Customer_Id__c', type: 'string', externalId: true, unique: true },
        { name: 'VIP__c', type: 'boolean' },
        { name: 'CreatedDate', type: 'datetime' },
        { name: 'CreatedById', type: 'reference', referenceTo: ['User'] },
        { name: 'LastModifiedDate', type: 'datetime' },
        { name: 'LastModifiedById', type: 'reference', referenceTo: ['User'] },
        { name: 'SystemModstamp', type: 'datetime' },
        { name: 'IsDeleted', type: 'boolean' },
      ],
    },
    {
      name: 'Stock_Level__c', label: 'Stock Level', keyPrefix: 'a01', custom: true, fields: [
        { name: 'Sku__c', type: 'string', externalId: true },
        { name: 'Quantity__c', type: 'double' },
        { name: 'Last_Counted__c', type: 'date' },
      ],
    },
    {
      name: 'Order_Shipped__e', label: 'Order Shipped', keyPrefix: 'e00', custom: true, fields: [
        { name: 'Order_Number__c', type: 'string' },
        { name: 'Shipped_At__c', type: 'datetime' },
      ],
    },
  ],
};

const session: AuthSession = {
  orgId: ORG_ID, userId: USER_ID, username: USERNAME, accessToken: GOOD_TOKEN, expiresAt: Date.now() + 3600_000,
};
/** Accepts GOOD_TOKEN only (stands in for the emulator's OAuth store). */
export const stubCheckToken = (token: string): AuthSession | undefined => (token === GOOD_TOKEN ? session : undefined);

let tlsPair: Promise<{ key: string; cert: string }> | undefined;
export function testTls(): Promise<{ key: string; cert: string }> {
  tlsPair ??= generate([{ name: 'commonName', value: 'localhost' }], { keySize: 2048, algorithm: 'sha256' })
    .then((p) => ({ key: p.private, cert: p.cert }));
  return tlsPair;
}

export const jwtKeys = crypto.generateKeyPairSync('rsa', {
  modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});

/** A logger the Pub/Sub client can use without printing. */
export const quietLogger = { debug() {}, info() {}, warn() {}, error() {} };

export interface TestOrg {
  hub: CdcHub;
  dataDir: string;
  baseUrl: string;
  pubSubEndpoint: string;
  server: http.Server;
  /** Closes the hub and the server; `keepData` leaves the data folder for a restart. */
  stop(keepData?: boolean): Promise<void>;
}

/** Stub of the two OAuth calls the Pub/Sub client makes: JWT bearer token, then userinfo. */
function stubOAuth(req: http.IncomingMessage, res: http.ServerResponse, baseUrl: () => string): void {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const reply = (status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (req.method === 'POST' && url.pathname === '/services/oauth2/token') {
    let raw = '';
    req.on('data', (c) => { raw += c; });
    req.on('end', () => {
      const form = new URLSearchParams(raw);
      try {
        jwt.verify(form.get('assertion') ?? '', jwtKeys.publicKey, { algorithms: ['RS256'] });
      } catch {
        return reply(400, { error: 'invalid_grant', error_description: 'invalid assertion' });
      }
      reply(200, {
        access_token: GOOD_TOKEN, instance_url: baseUrl(), id: `${baseUrl()}/id/${ORG_ID}/${USER_ID}`,
        token_type: 'Bearer', issued_at: String(Date.now()), scope: 'api',
      });
    });
    return;
  }
  if (req.method === 'GET' && url.pathname === '/services/oauth2/userinfo') {
    const ok = req.headers.authorization === `Bearer ${GOOD_TOKEN}`;
    return ok ? reply(200, { organization_id: ORG_ID, preferred_username: USERNAME, user_id: USER_ID })
      : reply(401, [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]);
  }
  reply(404, [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }]);
}

export async function startTestOrg(overrides: Partial<CdcHubOptions> & { dataDir?: string } = {}): Promise<TestOrg> {
  const dataDir = overrides.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'shopforce-cdc-'));
  const hub = createCdcHub({
    model: testModel, dataDir, apiVersion: API_VERSION, checkToken: stubCheckToken, tls: await testTls(),
    pubSubPort: 0, logger: createLogger('cdc-test', 'silent'), ...overrides,
  });
  let baseUrl = '';
  const server = http.createServer((req, res) => stubOAuth(req, res, () => baseUrl));
  hub.cometd.attach(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const { port } = await hub.pubsub.start();
  return {
    hub, dataDir, baseUrl, pubSubEndpoint: `127.0.0.1:${port}`, server,
    async stop(keepData = false) {
      await hub.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (!keepData) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

let commitNumber = 1000;
let idCounter = 0;
export function recordId(prefix = '001'): string {
  idCounter += 1;
  return `${prefix}5g00000${String(idCounter).padStart(8, '0')}AAA`.slice(0, 18);
}

export function tx(changes: RecordChange[], changeOrigin = 'com/salesforce/api/rest/60.0;client=shopforce'): CommittedTransaction {
  commitNumber += 1;
  return {
    transactionKey: crypto.randomUUID(), commitTimestamp: Date.now(), commitNumber, commitUser: USER_ID,
    changeOrigin, changes,
  };
}

export function accountCreate(id: string, name: string, extra: Record<string, unknown> = {}): RecordChange {
  const now = new Date().toISOString();
  return {
    entityName: 'Account', recordIds: [id], changeType: 'CREATE', changedFields: [], nulledFields: [], diffFields: [],
    fields: { Name: name, CreatedDate: now, CreatedById: USER_ID, LastModifiedDate: now, LastModifiedById: USER_ID, ...extra },
  };
}

export function accountUpdate(id: string, changed: Record<string, unknown>): RecordChange {
  const now = new Date().toISOString();
  const fields = { ...changed, LastModifiedDate: now };
  return {
    entityName: 'Account', recordIds: [id], changeType: 'UPDATE', fields,
    changedFields: Object.keys(fields), nulledFields: Object.keys(changed).filter((k) => changed[k] === null), diffFields: [],
  };
}

/** Resolves when `predicate` holds, polling briefly; rejects with `what` after `ms`. */
export async function waitFor(predicate: () => boolean, what: string, ms = 5000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
