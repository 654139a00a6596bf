import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import jwt from 'jsonwebtoken';
import type { Logger } from '../../observability/logger.ts';
import { baseUrlOf, bearerToken } from '../server/http-util.ts';
import type { OrgCredentials } from './credentials.ts';
import type { SessionStore } from './sessions.ts';

export interface OAuthDeps {
  creds: OrgCredentials;
  sessions: SessionStore;
  logger: Logger;
  /** True while every login is refused (the admin's refuseLogins fault: the user deactivated). */
  refusesLogins?: () => boolean;
}

type Form = Record<string, string | undefined>;

class OAuthError extends Error {
  constructor(readonly error: string, readonly description: string, readonly status = 400) {
    super(description);
  }
}

/** Audiences a JWT bearer assertion may name (the emulator's own URLs are added per request). */
const KNOWN_AUDIENCES = ['https://login.salesforce.com', 'https://test.salesforce.com'];

/**
 * OAuth 2.0 token endpoint (JWT bearer, client credentials, refresh token, password,
 * authorization code), userinfo / identity, revoke, and the SOAP partner login jsforce's
 * conn.login() uses.
 */
export function registerOAuthRoutes(app: FastifyInstance, deps: OAuthDeps): void {
  const { creds, sessions, logger } = deps;
  const refusesLogins = deps.refusesLogins ?? (() => false);
  const jwtCert = readFileSync(creds.jwtCertPath, 'utf8');
  const codes = new Map<string, number>();

  const tokenResponse = (req: FastifyRequest, withRefresh: boolean, clientId: string) => {
    const base = baseUrlOf(req);
    const session = sessions.issue();
    const id = `${base}/id/${creds.orgId}/${creds.userId}`;
    const issuedAt = String(session.issuedAt);
    const body: Record<string, string> = {
      access_token: session.accessToken,
      instance_url: base,
      id,
      token_type: 'Bearer',
      issued_at: issuedAt,
      signature: createHmac('sha256', creds.clientSecret).update(id + issuedAt).digest('base64'),
      scope: 'api',
    };
    if (withRefresh) {
      body.refresh_token = sessions.issueRefreshToken(clientId);
      body.scope = 'api refresh_token';
    }
    return body;
  };

  const checkClient = (form: Form, needSecret: boolean) => {
    if (form.client_id !== creds.clientId) throw new OAuthError('invalid_client_id', 'client identifier invalid');
    if (needSecret && form.client_secret !== creds.clientSecret) throw new OAuthError('invalid_client', 'invalid client credentials');
  };

  const grants: Record<string, (req: FastifyRequest, form: Form) => Record<string, string>> = {
    password: (req, form) => {
      logger.warn('OAuth username-password flow used: Salesforce is retiring it; use the JWT bearer flow');
      checkClient(form, true);
      if (form.username !== creds.username || form.password !== creds.password) throw new OAuthError('invalid_grant', 'authentication failure');
      return tokenResponse(req, false, creds.clientId);
    },
    client_credentials: (req, form) => {
      checkClient(form, true);
      return tokenResponse(req, false, creds.clientId);
    },
    refresh_token: (req, form) => {
      checkClient(form, false);
      if (form.client_secret !== undefined && form.client_secret !== creds.clientSecret) throw new OAuthError('invalid_client', 'invalid client credentials');
      if (!form.refresh_token || sessions.refreshTokenClient(form.refresh_token) !== form.client_id) {
        throw new OAuthError('invalid_grant', 'expired access/refresh token');
      }
      return tokenResponse(req, false, creds.clientId);
    },
    authorization_code: (req, form) => {
      checkClient(form, false);
      const code = form.code ?? '';
      const expires = codes.get(code);
      codes.delete(code);
      if (!expires || expires < Date.now()) throw new OAuthError('invalid_grant', 'invalid authorization code');
      return tokenResponse(req, true, creds.clientId);
    },
    'urn:ietf:params:oauth:grant-type:jwt-bearer': (req, form) => {
      const assertion = form.assertion;
      if (!assertion) throw new OAuthError('invalid_request', 'assertion is required');
      const decoded = jwt.decode(assertion, { json: true });
      if (!decoded) throw new OAuthError('invalid_grant', 'invalid assertion');
      if (decoded.iss !== creds.clientId) throw new OAuthError('invalid_client_id', 'client identifier invalid');
      const base = baseUrlOf(req);
      const audiences: [string, ...string[]] = [base, ...KNOWN_AUDIENCES, base.replace(/^https:/, 'http:'), base.replace(/^http:/, 'https:')];
      try {
        jwt.verify(assertion, jwtCert, { algorithms: ['RS256'], audience: audiences, clockTolerance: 5 });
      } catch (err) {
        const e = err as Error;
        if (e.name === 'TokenExpiredError') throw new OAuthError('invalid_grant', 'expired authorization code');
        if (/audience/.test(e.message)) throw new OAuthError('invalid_grant', 'audience is invalid');
        throw new OAuthError('invalid_grant', 'invalid assertion');
      }
      if (decoded.sub !== creds.username) throw new OAuthError('invalid_grant', "user hasn't approved this consumer");
      return tokenResponse(req, false, creds.clientId);
    },
  };

  app.post('/services/oauth2/token', async (req, reply) => {
    const form = { ...(req.query as Form), ...((req.body ?? {}) as Form) };
    try {
      const grant = grants[form.grant_type ?? ''];
      if (!grant) throw new OAuthError('unsupported_grant_type', 'grant type not supported');
      // a deactivated user: every grant is refused, whatever its credentials
      if (refusesLogins()) throw new OAuthError('invalid_grant', 'inactive user');
      return reply.code(200).send(grant(req, form));
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      logger.info({ grantType: form.grant_type, error: err.error }, 'token request refused');
      return reply.code(err.status).send({ error: err.error, error_description: err.description });
    }
  });

  app.get('/services/oauth2/authorize', async (req, reply) => {
    const q = req.query as Form;
    if (q.client_id !== creds.clientId || !q.redirect_uri) return reply.code(400).send({ error: 'invalid_client_id', error_description: 'client identifier invalid' });
    const code = randomBytes(24).toString('base64url');
    codes.set(code, Date.now() + 15 * 60_000);
    const target = new URL(q.redirect_uri);
    target.searchParams.set('code', code);
    if (q.state) target.searchParams.set('state', q.state);
    return reply.redirect(target.toString(), 302);
  });

  app.post('/services/oauth2/revoke', async (req, reply) => {
    const form = { ...(req.query as Form), ...((req.body ?? {}) as Form) };
    if (form.token) sessions.revoke(form.token);
    return reply.code(200).send('');
  });

  const identity = (req: FastifyRequest, reply: FastifyReply) => {
    const token = bearerToken(req);
    if (!token || !sessions.check(token)) return reply.code(403).type('text/plain').send('Bad_OAuth_Token');
    const base = baseUrlOf(req);
    const v = '60.0';
    return reply.send({
      sub: `${base}/id/${creds.orgId}/${creds.userId}`,
      id: `${base}/id/${creds.orgId}/${creds.userId}`,
      user_id: creds.userId,
      organization_id: creds.orgId,
      preferred_username: creds.username,
      username: creds.username,
      nickname: 'sandbox-admin',
      name: 'Sandbox Admin',
      display_name: 'Sandbox Admin',
      email: creds.username,
      email_verified: true,
      given_name: 'Sandbox',
      family_name: 'Admin',
      zoneinfo: 'Etc/UTC',
      locale: 'en_US',
      language: 'en_US',
      active: true,
      user_type: 'STANDARD',
      utcOffset: 0,
      is_app_installed: true,
      urls: {
        rest: `${base}/services/data/v{version}/`,
        sobjects: `${base}/services/data/v{version}/sobjects/`,
        query: `${base}/services/data/v{version}/query/`,
        profile: `${base}/${creds.userId}`,
        custom_domain: base,
        partner: `${base}/services/Soap/u/{version}/${creds.orgId}`,
      },
      updated_at: new Date(0).toISOString().replace('.000Z', '+0000'),
      api_version: v,
    });
  };
  app.get('/services/oauth2/userinfo', identity);
  app.post('/services/oauth2/userinfo', identity);
  app.get('/id/:orgId/:userId', identity);

  app.post('/services/Soap/u/:version', async (req, reply) => {
    const body = typeof req.body === 'string' ? req.body : '';
    const version = (req.params as { version: string }).version;
    reply.type('text/xml; charset=utf-8');
    const envelope = (inner: string) =>
      `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>${inner}</soapenv:Body></soapenv:Envelope>`;
    if (/<logout[\s>/]/.test(body)) {
      const sid = /<sessionId>([^<]+)<\/sessionId>/.exec(body)?.[1];
      if (sid) sessions.revoke(unescapeXml(sid));
      return reply.send(envelope('<logoutResponse/>'));
    }
    const username = unescapeXml(/<username>([^<]*)<\/username>/.exec(body)?.[1] ?? '');
    const password = unescapeXml(/<password>([^<]*)<\/password>/.exec(body)?.[1] ?? '');
    logger.warn('SOAP login() used: Salesforce retires it in Summer \'27 (API 65.0); use the JWT bearer flow');
    if (username !== creds.username || password !== creds.password || refusesLogins()) {
      return reply.code(500).send(envelope(
        '<soapenv:Fault><faultcode>sf:INVALID_LOGIN</faultcode><faultstring>INVALID_LOGIN: Invalid username, password, security token; or user locked out.</faultstring><detail><sf:LoginFault xmlns:sf="urn:fault.partner.soap.sforce.com"><sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode><sf:exceptionMessage>Invalid username, password, security token; or user locked out.</sf:exceptionMessage></sf:LoginFault></detail></soapenv:Fault>',
      ));
    }
    const base = baseUrlOf(req);
    const session = sessions.issue();
    const ttlSeconds = Math.round((session.expiresAt - session.issuedAt) / 1000);
    return reply.send(envelope(
      `<loginResponse><result><metadataServerUrl>${base}/services/Soap/m/${version}/${creds.orgId.slice(0, 15)}</metadataServerUrl>` +
      `<passwordExpired>false</passwordExpired><sandbox>true</sandbox>` +
      `<serverUrl>${base}/services/Soap/u/${version}/${creds.orgId.slice(0, 15)}</serverUrl>` +
      `<sessionId>${escapeXml(session.accessToken)}</sessionId><userId>${creds.userId}</userId>` +
      `<userInfo><organizationId>${creds.orgId}</organizationId><organizationName>shopforce sandbox</organizationName>` +
      `<sessionSecondsValid>${ttlSeconds}</sessionSecondsValid><userEmail>${escapeXml(creds.username)}</userEmail>` +
      `<userFullName>Sandbox Admin</userFullName><userId>${creds.userId}</userId><userName>${escapeXml(creds.username)}</userName>` +
      `</userInfo></result></loginResponse>`,
    ));
  });
}

function unescapeXml(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
