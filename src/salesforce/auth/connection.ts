import { readFileSync } from 'node:fs';
import https from 'node:https';
import tls from 'node:tls';
import jsforce, { type Connection } from 'jsforce';
import jwt from 'jsonwebtoken';
import type { ShopforceConfig } from '../../config/schema.ts';
import { createLogger } from '../../observability/logger.ts';

const log = createLogger('salesforce.auth');

export type SalesforceConfig = ShopforceConfig['salesforce'];

/** Salesforce's code of a refused login: the OAuth error (`invalid_grant`) or the SOAP fault (`INVALID_LOGIN`). */
const LOGIN_ERROR_CODE = /^(?:[a-z]+(?:_[a-z]+)*|[A-Z]+(?:_[A-Z]+)*)$/;

/**
 * A login that failed: which flow, which login URL, and Salesforce's own words. When Salesforce
 * refused it, `errorCode` is its code: `invalid_grant` (a user deactivated, an app no longer
 * approved) is an error of our access to the org, so a stage that needs the login pauses
 * (see classifyError) instead of failing its records.
 */
export class SalesforceAuthError extends Error {
  readonly errorCode?: string;
  constructor(readonly authType: string, readonly loginUrl: string, detail: string, options?: ErrorOptions) {
    super(`Salesforce ${authType} login at ${loginUrl} failed: ${detail}`, options);
    this.name = 'SalesforceAuthError';
    const code = (options?.cause as { name?: unknown } | undefined)?.name;
    if (typeof code === 'string' && LOGIN_ERROR_CODE.test(code)) this.errorCode = code;
  }
}

/** The JWT bearer assertion: iss = client id, sub = username, aud = login URL, 5 minutes. */
export function jwtAssertion(cfg: Pick<SalesforceConfig, 'clientId' | 'username' | 'loginUrl' | 'privateKeyPath'>): string {
  const key = readFileSync(cfg.privateKeyPath!, 'utf8');
  return jwt.sign({}, key, { algorithm: 'RS256', issuer: cfg.clientId, subject: cfg.username, audience: cfg.loginUrl.replace(/\/$/, ''), expiresIn: 300 });
}

/** Token request parameters of the configured OAuth flow (password goes through jsforce's login). */
function grantParams(cfg: SalesforceConfig): Record<string, string> {
  if (cfg.authType === 'jwt') return { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: jwtAssertion(cfg) };
  return { grant_type: 'client_credentials', client_id: cfg.clientId, client_secret: cfg.clientSecret! };
}

let trustedCa: string | undefined;
/** Trusts an extra CA (the sandbox's self-signed certificate) for HTTPS calls of this process. */
export function trustExtraCa(caCertPath: string | undefined): void {
  if (!caCertPath || trustedCa === caCertPath) return;
  const ca = readFileSync(caCertPath, 'utf8');
  https.globalAgent.options.ca = [...tls.rootCertificates, ca];
  trustedCa = caCertPath;
}

/**
 * A logged-in jsforce connection for the configured flow. JWT and client_credentials get no
 * refresh token, so the connection re-runs the grant when Salesforce answers INVALID_SESSION_ID.
 */
export async function connectSalesforce(cfg: SalesforceConfig): Promise<Connection> {
  trustExtraCa(cfg.caCertPath);
  const loginUrl = cfg.loginUrl.replace(/\/$/, '');
  const base = {
    loginUrl,
    version: cfg.apiVersion,
    callOptions: { client: cfg.callOptionsClient },
    oauth2: { loginUrl, clientId: cfg.clientId, clientSecret: cfg.clientSecret },
  };
  if (cfg.authType === 'password') {
    const conn = new jsforce.Connection(base);
    try {
      await conn.login(cfg.username!, cfg.password!);
    } catch (err) {
      throw new SalesforceAuthError(cfg.authType, loginUrl, (err as Error).message, { cause: err });
    }
    log.warn({ loginUrl }, 'username-password login is being retired by Salesforce: prefer authType jwt');
    return conn;
  }
  const conn: Connection = new jsforce.Connection({
    ...base,
    refreshFn: (c: Connection, callback: (err?: Error | null, accessToken?: string) => void) => {
      c.oauth2.requestToken(grantParams(cfg) as any).then(
        (res: any) => {
          log.info({ loginUrl }, 'Salesforce session refreshed');
          c.accessToken = res.access_token;
          c.instanceUrl = res.instance_url;
          callback(null, res.access_token);
        },
        // jsforce keeps only the message of a failed refresh ("Unable to refresh session due to: ..."):
        // Salesforce's code goes into it, so the sink tells a refused login from a network error
        (err: Error) => callback(LOGIN_ERROR_CODE.test(err.name) ? new Error(`${err.name}: ${err.message}`, { cause: err }) : err),
      );
    },
  } as any);
  try {
    await conn.authorize(grantParams(cfg) as any);
  } catch (err) {
    throw new SalesforceAuthError(cfg.authType, loginUrl, (err as Error).message, { cause: err });
  }
  return conn;
}
