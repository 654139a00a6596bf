/**
 * Schema registry basic auth (registry.username / registry.password): every call the product makes
 * carries the credentials, and a refusal names the settings to fix.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { registryClient } from '../../src/avro/registry.ts';

const USER = 'shopforce';
const PASSWORD = 'registry-pw';
const seen: Array<{ method: string; url: string; authorized: boolean }> = [];
let server: Server;
let url: string;

const authorized = (req: IncomingMessage) => req.headers.authorization === `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;

before(async () => {
  // a registry that answers only with the right credentials (the part of the Confluent API the product uses)
  server = createServer((req, res) => {
    const ok = authorized(req);
    seen.push({ method: req.method!, url: req.url!, authorized: ok });
    req.resume();
    res.setHeader('content-type', 'application/vnd.schemaregistry.v1+json');
    if (!ok) {
      res.writeHead(401).end(JSON.stringify({ error_code: 401, message: 'Unauthorized' }));
      return;
    }
    if (req.method === 'PUT' && req.url!.startsWith('/config/')) res.end(JSON.stringify({ compatibility: 'BACKWARD' }));
    else if (req.method === 'POST' && /^\/subjects\/[^/]+\/versions/.test(req.url!)) res.end(JSON.stringify({ id: 7 }));
    else res.writeHead(404).end(JSON.stringify({ error_code: 40401, message: 'not found' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

const schema = { subject: 'sync.test-value', schema: { type: 'record', name: 'T', fields: [{ name: 'a', type: 'string' }] } } as const;

describe('schema registry basic auth', () => {
  test('with registry.username and registry.password every call is authorized and the schema registers', async () => {
    seen.length = 0;
    const id = await registryClient({ url, username: USER, password: PASSWORD }).register(schema as never);
    assert.equal(id, 7);
    assert.ok(seen.length >= 2, `the compatibility and the version calls (${JSON.stringify(seen)})`);
    assert.deepEqual(seen.filter((s) => !s.authorized), [], 'no call without credentials');
  });

  test('a refused password is an error naming registry.username and registry.password', async () => {
    await assert.rejects(registryClient({ url, username: USER, password: 'wrong' }).register(schema as never),
      /schema registry refused our credentials \(HTTP 401\): check registry\.username and registry\.password/);
  });

  test('without credentials configured, no Authorization header is sent', async () => {
    seen.length = 0;
    await assert.rejects(registryClient({ url }).register(schema as never));
    assert.ok(seen.length > 0 && seen.every((s) => !s.authorized));
  });
});
