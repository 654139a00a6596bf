import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connectSalesforce, SalesforceAuthError, type SalesforceConfig } from '../../src/salesforce/auth/connection.ts';
import { startTestSandbox, type TestSandbox } from '../sandbox/sandbox-helpers.ts';

// The processors' login to Salesforce, against the emulator with the real jsforce: each OAuth flow,
// the automatic re-login when the session expires, and a clear error for bad credentials.
describe('Salesforce connection', () => {
  let t: TestSandbox;
  const base = (): SalesforceConfig => ({
    loginUrl: t.sb.loginUrl,
    authType: 'jwt',
    clientId: t.sb.credentials.clientId,
    username: t.sb.credentials.username,
    privateKeyPath: t.sb.credentials.jwtPrivateKeyPath,
    apiVersion: '60.0',
    callOptionsClient: 'shopforce-test',
    source: { mode: 'pubsub', pubsubEndpoint: t.sb.pubSubEndpoint, keepaliveTimeoutMs: 300_000 },
  });

  before(async () => {
    t = await startTestSandbox();
  });
  after(async () => {
    await t?.cleanup();
  });

  test('JWT bearer login, then REST calls carry our Sforce-Call-Options client', async () => {
    const conn = await connectSalesforce(base());
    assert.equal(conn.userInfo?.organizationId, t.sb.credentials.orgId);
    const created = await conn.sobject('Account').create({ Name: 'JWT Co' });
    assert.equal((created as any).success, true);
    const result = await conn.query<{ Name: string }>(`SELECT Name FROM Account WHERE Id = '${(created as any).id}'`);
    assert.equal(result.records[0]?.Name, 'JWT Co');
  });

  test('client credentials login', async () => {
    const conn = await connectSalesforce({ ...base(), authType: 'client_credentials', clientSecret: t.sb.credentials.clientSecret });
    assert.ok(conn.accessToken?.startsWith(`${t.sb.credentials.orgId}!`) || conn.accessToken?.includes('!'));
    const limits = await conn.request<any>(`/services/data/v60.0/limits`);
    assert.ok(limits.DailyApiRequests.Max > 0);
  });

  test('password login (deprecated flow) still works for sandboxes', async () => {
    const conn = await connectSalesforce({ ...base(), authType: 'password', clientSecret: t.sb.credentials.clientSecret, password: t.sb.credentials.password });
    const res = await conn.query('SELECT COUNT() FROM Account');
    assert.ok(res.totalSize >= 0);
  });

  test('an expired session is renewed by re-running the JWT grant, and the call succeeds', async () => {
    const conn = await connectSalesforce(base());
    const before = conn.accessToken;
    assert.ok(t.sb.admin.expireSessions() >= 1);
    const res = await conn.query('SELECT COUNT() FROM Account');
    assert.ok(res.totalSize >= 1);
    assert.notEqual(conn.accessToken, before, 'a new access token was obtained');
  });

  test('a JWT signed with the wrong key fails with the flow, the login URL and Salesforce\'s reason', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sf-key-'));
    try {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const keyPath = join(dir, 'wrong.pem');
      writeFileSync(keyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }));
      await assert.rejects(connectSalesforce({ ...base(), privateKeyPath: keyPath }), (err: unknown) => {
        assert.ok(err instanceof SalesforceAuthError);
        assert.match(err.message, /jwt login at http:\/\/127\.0\.0\.1:\d+ failed/);
        assert.match(err.message, /invalid_grant|invalid/i);
        return true;
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
