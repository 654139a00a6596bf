import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import jsforce from 'jsforce';
import { API_VERSION, jwtAssertion, jwtConnection, rejectionOf, startTestSandbox, type TestSandbox } from './sandbox-helpers.ts';

describe('sandbox OAuth and login (real jsforce)', () => {
  let t: TestSandbox;
  before(async () => { t = await startTestSandbox({ sessionTtlSeconds: 3600 }); });
  after(async () => { await t.cleanup(); });

  it('logs in with the JWT bearer flow and gets an org-prefixed token and the instance URL it called', async () => {
    const conn = await jwtConnection(t.sb);
    assert.equal(conn.instanceUrl, t.sb.loginUrl);
    assert.match(conn.accessToken!, new RegExp(`^${t.sb.credentials.orgId.slice(0, 15)}!`));
    assert.equal(conn.userInfo?.organizationId, t.sb.credentials.orgId);
    assert.equal(conn.userInfo?.id, t.sb.credentials.userId);
    const res = await conn.query('SELECT Id, Name FROM Pricebook2 WHERE IsStandard = true');
    assert.equal(res.totalSize, 1);
  });

  it('refuses a JWT signed by another key or naming another user with invalid_grant', async () => {
    const conn = new jsforce.Connection({ oauth2: { loginUrl: t.sb.loginUrl, clientId: t.sb.credentials.clientId }, version: API_VERSION });
    const { privateKey } = await import('node:crypto').then((c) => c.generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } }));
    const jwtLib = (await import('jsonwebtoken')).default;
    const forged = jwtLib.sign({ iss: t.sb.credentials.clientId, sub: t.sb.credentials.username, aud: t.sb.loginUrl, exp: Math.floor(Date.now() / 1000) + 300 }, privateKey, { algorithm: 'RS256' });
    const err1 = await rejectionOf(conn.authorize({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: forged }));
    assert.equal(err1.name, 'invalid_grant');
    const err2 = await rejectionOf(conn.authorize({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: jwtAssertion(t.sb, { sub: 'someone@else.com' }) }));
    assert.equal(err2.name, 'invalid_grant');
  });

  it('logs in with client credentials', async () => {
    const conn = new jsforce.Connection({ oauth2: { loginUrl: t.sb.loginUrl, clientId: t.sb.credentials.clientId, clientSecret: t.sb.credentials.clientSecret }, version: API_VERSION });
    const info = await conn.authorize({ grant_type: 'client_credentials' });
    assert.equal(info.organizationId, t.sb.credentials.orgId);
    const id = await conn.sobject('Account').create({ Name: 'Client Credentials Co' });
    assert.equal(id.success, true);
  });

  it('logs in through SOAP login() and refuses a wrong password with INVALID_LOGIN', async () => {
    const conn = new jsforce.Connection({ loginUrl: t.sb.loginUrl, version: API_VERSION });
    const info = await conn.login(t.sb.credentials.username, t.sb.credentials.password);
    assert.equal(info.organizationId, t.sb.credentials.orgId);
    const limits = await conn.limits();
    assert.ok(limits.DailyApiRequests.Max > 0);
    const bad = new jsforce.Connection({ loginUrl: t.sb.loginUrl, version: API_VERSION });
    const err = await rejectionOf(bad.login(t.sb.credentials.username, 'wrong'));
    assert.match(err.message, /INVALID_LOGIN/);
  });

  it('logs in with the (deprecated) password flow; bad credentials answer invalid_grant', async () => {
    const conn = new jsforce.Connection({ oauth2: { loginUrl: t.sb.loginUrl, clientId: t.sb.credentials.clientId, clientSecret: t.sb.credentials.clientSecret }, version: API_VERSION });
    const info = await conn.login(t.sb.credentials.username, t.sb.credentials.password);
    assert.equal(info.id, t.sb.credentials.userId);
    const bad = new jsforce.Connection({ oauth2: { loginUrl: t.sb.loginUrl, clientId: t.sb.credentials.clientId, clientSecret: t.sb.credentials.clientSecret }, version: API_VERSION });
    const err = await rejectionOf(bad.login(t.sb.credentials.username, 'nope'));
    assert.equal(err.name, 'invalid_grant');
  });

  it('answers userinfo for a valid token, as the Pub/Sub client reads it', async () => {
    const conn = await jwtConnection(t.sb);
    const res = await fetch(`${t.sb.loginUrl}/services/oauth2/userinfo`, { headers: { authorization: `Bearer ${conn.accessToken}` } });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { organization_id: string; preferred_username: string };
    assert.equal(body.organization_id, t.sb.credentials.orgId);
    assert.equal(body.preferred_username, t.sb.credentials.username);
  });

  it('puts the https scheme in instance_url when the token request came over https', async () => {
    const { Agent } = await import('undici');
    const dispatcher = new Agent({ connect: { rejectUnauthorized: false } });
    const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: t.sb.credentials.clientId, client_secret: t.sb.credentials.clientSecret });
    const { fetch: ufetch } = await import('undici');
    const res = await ufetch(`${t.sb.httpsUrl}/services/oauth2/token`, { method: 'POST', body, dispatcher });
    const json = (await res.json()) as { instance_url: string };
    assert.equal(json.instance_url, t.sb.httpsUrl);
    await dispatcher.close();
  });

  it('runs the authorization code flow; jsforce refreshes with the refresh_token grant after expiry', async () => {
    const redirectUri = 'http://127.0.0.1/callback';
    const conn = new jsforce.Connection({ oauth2: { loginUrl: t.sb.loginUrl, clientId: t.sb.credentials.clientId, clientSecret: t.sb.credentials.clientSecret, redirectUri }, version: API_VERSION });
    const res = await fetch(conn.oauth2.getAuthorizationUrl({ state: 's1' }), { redirect: 'manual' });
    assert.equal(res.status, 302);
    const location = new URL(res.headers.get('location')!);
    assert.equal(location.searchParams.get('state'), 's1');
    await conn.authorize(location.searchParams.get('code')!);
    assert.ok(conn.refreshToken);
    const before = conn.accessToken;
    t.sb.admin.expireSessions();
    const q = await conn.query('SELECT COUNT() FROM Account');
    assert.equal(typeof q.totalSize, 'number');
    assert.notEqual(conn.accessToken, before);
    const bad = await rejectionOf(conn.oauth2.refreshToken('not-a-refresh-token'));
    assert.equal(bad.name, 'invalid_grant');
  });

  it('answers 401 INVALID_SESSION_ID to a revoked/unknown token', async () => {
    const conn = new jsforce.Connection({ instanceUrl: t.sb.loginUrl, accessToken: `${t.sb.credentials.orgId.slice(0, 15)}!bogus`, version: API_VERSION });
    const err = await rejectionOf(conn.query('SELECT Id FROM Account'));
    assert.equal(err.errorCode, 'INVALID_SESSION_ID');
  });
});

describe('sandbox session expiry', () => {
  let t: TestSandbox;
  before(async () => { t = await startTestSandbox({ sessionTtlSeconds: 1 }); });
  after(async () => { await t.cleanup(); });

  it('expires tokens after the configured lifetime and jsforce refreshes through refreshFn', async () => {
    const conn = await jwtConnection(t.sb);
    const first = conn.accessToken;
    let refreshed = 0;
    conn.on('refresh', () => { refreshed += 1; });
    await new Promise((r) => setTimeout(r, 1100));
    const res = await conn.sobject('Account').create({ Name: 'After expiry' });
    assert.equal(res.success, true);
    assert.equal(refreshed, 1);
    assert.notEqual(conn.accessToken, first);
  });
});
