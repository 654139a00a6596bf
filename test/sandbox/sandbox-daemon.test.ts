import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'dotenv';
import jsforce from 'jsforce';
import jwt from 'jsonwebtoken';
import { sandboxDown, sandboxStatus, sandboxUp } from '../../src/sandbox/daemon.ts';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

describe('sandbox up/down/status as a background process (what the CLI runs)', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'sbx-daemon-'));
  after(async () => {
    await sandboxDown(stateDir);
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('starts detached, writes the env file the processors read, and stops', async () => {
    const env = {
      ...process.env,
      SHOPFORCE_SANDBOX_PORT: String(await freePort()),
      SHOPFORCE_SANDBOX_HTTPS_PORT: String(await freePort()),
      SHOPFORCE_SANDBOX_PUBSUB_PORT: String(await freePort()),
    };
    const up = await sandboxUp(stateDir, env);
    assert.equal(up.healthy, true);
    const vars = parse(readFileSync(up.envFile, 'utf8'));
    assert.equal(vars.SF_LOGIN_URL, `http://127.0.0.1:${env.SHOPFORCE_SANDBOX_PORT}`);
    assert.equal(vars.SF_PUBSUB_ENDPOINT, `127.0.0.1:${env.SHOPFORCE_SANDBOX_PUBSUB_PORT}`);
    for (const k of ['SF_USERNAME', 'SF_PASSWORD', 'SF_CLIENT_ID', 'SF_CLIENT_SECRET', 'SF_PRIVATE_KEY_PATH', 'SF_ADMIN_TOKEN', 'SF_CA_CERT_PATH']) assert.ok(vars[k], k);

    const assertion = jwt.sign(
      { iss: vars.SF_CLIENT_ID, sub: vars.SF_USERNAME, aud: vars.SF_LOGIN_URL, exp: Math.floor(Date.now() / 1000) + 300 },
      readFileSync(vars.SF_PRIVATE_KEY_PATH!, 'utf8'), { algorithm: 'RS256' },
    );
    const conn = new jsforce.Connection({ oauth2: { loginUrl: vars.SF_LOGIN_URL, clientId: vars.SF_CLIENT_ID }, version: '60.0' });
    await conn.authorize({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion });
    assert.equal((await conn.query('SELECT COUNT() FROM Pricebook2')).totalSize, 1);

    const again = await sandboxUp(stateDir, env);
    assert.equal(again.pid, up.pid, 'up is idempotent');
    assert.equal(await sandboxDown(stateDir), true);
    const down = await sandboxStatus(stateDir, env);
    assert.equal(down.running, false);
  });
});
