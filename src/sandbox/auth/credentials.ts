import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { z } from 'zod';
import { makeId } from '../store/ids.ts';
import { writePrivateFile } from '../../stack/private-file.ts';

/** Who may log in to the emulated org, generated once per data dir and kept there. */
export interface OrgCredentials {
  orgId: string;          // 18-char 00D...
  userId: string;         // 18-char 005...
  username: string;
  password: string;
  clientId: string;       // connected app consumer key
  clientSecret: string;
  adminToken: string;     // for /__admin/
  /** PEM files: the JWT signing key the client keeps, and the certificate the "connected app" holds. */
  jwtPrivateKeyPath: string;
  jwtCertPath: string;
}

const fileSchema = z.object({
  orgId: z.string(), userId: z.string(), username: z.string(), password: z.string(),
  clientId: z.string(), clientSecret: z.string(), adminToken: z.string(),
});

const token = (bytes: number) => randomBytes(bytes).toString('base64url');

/** Reads <dataDir>/credentials.json (+ jwt/ PEMs), generating whatever is missing. */
export async function loadOrCreateCredentials(dataDir: string, overrides: Partial<z.infer<typeof fileSchema>> = {}): Promise<OrgCredentials> {
  mkdirSync(join(dataDir, 'jwt'), { recursive: true });
  const file = join(dataDir, 'credentials.json');
  let stored: z.infer<typeof fileSchema>;
  if (existsSync(file)) {
    const parsed = fileSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (!parsed.success) throw new Error(`invalid ${file}: ${parsed.error.issues[0]!.path.join('.')}: ${parsed.error.issues[0]!.message}`);
    stored = parsed.data;
  } else {
    stored = {
      orgId: makeId('00D', randomInt(1, 2 ** 40), '5g'),
      userId: makeId('005', randomInt(1, 2 ** 40), '5g'),
      username: `admin@shopforce-sandbox-${token(4).toLowerCase().replace(/[^a-z0-9]/g, 'x')}.local`,
      password: `Sbx-${token(12)}`,
      clientId: `3MVG9${token(48).replace(/[-_]/g, 'A')}`,
      clientSecret: randomBytes(32).toString('hex').toUpperCase(),
      adminToken: token(24),
    };
  }
  stored = { ...stored, ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) };
  writePrivateFile(file, JSON.stringify(stored, null, 2));
  const jwtPrivateKeyPath = join(dataDir, 'jwt', 'private.key');
  const jwtCertPath = join(dataDir, 'jwt', 'cert.pem');
  if (!existsSync(jwtPrivateKeyPath) || !existsSync(jwtCertPath)) {
    const pems = await generate([{ name: 'commonName', value: 'shopforce-jwt' }], { keySize: 2048, algorithm: 'sha256', notAfterDate: new Date(Date.now() + 10 * 365 * 86_400_000) });
    writePrivateFile(jwtPrivateKeyPath, pems.private);
    writeFileSync(jwtCertPath, pems.cert);
  }
  return { ...stored, jwtPrivateKeyPath, jwtCertPath };
}

export interface TlsPair { key: string; cert: string; certPath: string }

/** The HTTPS / gRPC server certificate (self-signed, for localhost, 127.0.0.1 and the compose host `sandbox`), made once. */
export async function loadOrCreateTls(dataDir: string): Promise<TlsPair> {
  const dir = join(dataDir, 'tls');
  mkdirSync(dir, { recursive: true });
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  if (!existsSync(keyPath) || !existsSync(certPath)) {
    const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
      keySize: 2048, algorithm: 'sha256', notAfterDate: new Date(Date.now() + 10 * 365 * 86_400_000),
      extensions: [
        { name: 'basicConstraints', cA: true },
        { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 2, value: 'sandbox' }, { type: 7, ip: '127.0.0.1' }] },
      ],
    });
    writePrivateFile(keyPath, pems.private);
    writeFileSync(certPath, pems.cert);
  }
  return { key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8'), certPath };
}
