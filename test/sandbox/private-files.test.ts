/**
 * Files holding sessions, keys, tokens or secrets are readable by their owner only (0600), also when
 * an older version left them wider: the sandbox's credentials and JWT key, its TLS key, the env file
 * with the org's secrets, and any file written through writePrivateFile.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadOrCreateCredentials, loadOrCreateTls } from '../../src/sandbox/auth/credentials.ts';
import { writeEnvFile } from '../../src/sandbox/env-file.ts';
import { writePrivateFile } from '../../src/stack/private-file.ts';

const tmp = mkdtempSync(join(tmpdir(), 'shopforce-private-files-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const modeOf = (path: string) => (statSync(path).mode & 0o777).toString(8);

test('the sandbox org\'s credentials, JWT private key and TLS key are 0600', async () => {
  const dir = join(tmp, 'org');
  const creds = await loadOrCreateCredentials(dir);
  await loadOrCreateTls(dir);
  assert.equal(modeOf(join(dir, 'credentials.json')), '600');
  assert.equal(modeOf(creds.jwtPrivateKeyPath), '600');
  assert.equal(modeOf(join(dir, 'tls', 'key.pem')), '600');
});

test('a credentials file an older version left 0644 is 0600 after the next start', async () => {
  const dir = join(tmp, 'old-org');
  await loadOrCreateCredentials(dir);
  chmodSync(join(dir, 'credentials.json'), 0o644);
  await loadOrCreateCredentials(dir);
  assert.equal(modeOf(join(dir, 'credentials.json')), '600');
});

test('the env file with the org\'s secrets is 0600, also when it existed with a wider mode', () => {
  const path = join(tmp, 'sandbox.env');
  writeFileSync(path, 'OLD=1\n', { mode: 0o644 });
  chmodSync(path, 0o644);
  writeEnvFile(path, { SF_CLIENT_SECRET: 'secret' });
  assert.equal(modeOf(path), '600');
});

test('writePrivateFile creates 0600 files and narrows an existing one before writing', () => {
  const fresh = join(tmp, 'token');
  writePrivateFile(fresh, 'abc');
  assert.equal(modeOf(fresh), '600');
  const wide = join(tmp, 'wide');
  writeFileSync(wide, 'x');
  chmodSync(wide, 0o666);
  writePrivateFile(wide, 'new secret');
  assert.equal(modeOf(wide), '600');
});
