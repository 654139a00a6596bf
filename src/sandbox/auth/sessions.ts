import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { AuthSession, TokenCheck } from './session.ts';
import type { OrgCredentials } from './credentials.ts';

/**
 * Access and refresh tokens of the emulated org, kept in <dataDir>/auth.sqlite so that a
 * restart of the emulator does not log everyone out (as a Salesforce restart would not).
 */
export class SessionStore {
  private readonly db: Database.Database;
  private readonly cache = new Map<string, AuthSession>();

  constructor(dataDir: string, private readonly creds: OrgCredentials, private ttlMs: number) {
    this.db = new Database(join(dataDir, 'auth.sqlite'));
    this.db.pragma('journal_mode = WAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS sessions (token TEXT PRIMARY KEY, expires_at INTEGER NOT NULL, issued_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS refresh_tokens (token TEXT PRIMARY KEY, client_id TEXT NOT NULL);
`);
  }

  get orgId15(): string { return this.creds.orgId.slice(0, 15); }

  setTtl(ms: number): void { this.ttlMs = ms; }

  issue(): AuthSession & { issuedAt: number } {
    const issuedAt = Date.now();
    const accessToken = `${this.orgId15}!${randomBytes(48).toString('base64url').replace(/[-_]/g, 'x')}`;
    const session = { orgId: this.creds.orgId, userId: this.creds.userId, username: this.creds.username, accessToken, expiresAt: issuedAt + this.ttlMs };
    this.db.prepare('INSERT INTO sessions (token, expires_at, issued_at) VALUES (?, ?, ?)').run(accessToken, session.expiresAt, issuedAt);
    this.cache.set(accessToken, session);
    this.prune();
    return { ...session, issuedAt };
  }

  issueRefreshToken(clientId: string): string {
    const token = `5Aep861${randomBytes(40).toString('base64url').replace(/[-_]/g, 'x')}`;
    this.db.prepare('INSERT INTO refresh_tokens (token, client_id) VALUES (?, ?)').run(token, clientId);
    return token;
  }

  refreshTokenClient(token: string): string | undefined {
    const row = this.db.prepare('SELECT client_id FROM refresh_tokens WHERE token = ?').get(token) as { client_id: string } | undefined;
    return row?.client_id;
  }

  /** The TokenCheck every API uses. */
  readonly check: TokenCheck = (accessToken) => {
    let session = this.cache.get(accessToken);
    if (!session) {
      const row = this.db.prepare('SELECT expires_at FROM sessions WHERE token = ?').get(accessToken) as { expires_at: number } | undefined;
      if (!row) return undefined;
      session = { orgId: this.creds.orgId, userId: this.creds.userId, username: this.creds.username, accessToken, expiresAt: row.expires_at };
      this.cache.set(accessToken, session);
    }
    if (session.expiresAt <= Date.now()) return undefined;
    return session;
  };

  revoke(token: string): void {
    this.cache.delete(token);
    this.db.prepare('DELETE FROM sessions WHERE token = ?').run(token);
    this.db.prepare('DELETE FROM refresh_tokens WHERE token = ?').run(token);
  }

  /** Every access token issued so far stops working (refresh tokens stay valid). */
  expireAll(): number {
    const count = (this.db.prepare('SELECT COUNT(*) AS n FROM sessions').get() as { n: number }).n;
    this.db.prepare('DELETE FROM sessions').run();
    this.cache.clear();
    return count;
  }

  private prune(): void {
    if (this.cache.size < 10_000) return;
    const now = Date.now();
    for (const [k, s] of this.cache) if (s.expiresAt <= now) this.cache.delete(k);
    this.db.prepare('DELETE FROM sessions WHERE expires_at <= ?').run(now);
  }

  close(): void { this.db.close(); }
}
