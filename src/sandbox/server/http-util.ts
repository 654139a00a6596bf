import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuthSession, TokenCheck } from '../auth/session.ts';
import { SfError } from '../store/errors.ts';

/** `https://127.0.0.1:58443`: the scheme and host the request arrived on. */
export function baseUrlOf(req: FastifyRequest): string {
  const host = req.headers.host ?? `${req.hostname}`;
  return `${req.protocol}://${host}`;
}

/** The token of `Authorization: Bearer <t>` (or `OAuth <t>`), else undefined. */
export function bearerToken(req: FastifyRequest): string | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const m = /^(Bearer|OAuth)\s+(.+)$/i.exec(header.trim());
  return m ? m[2]!.trim() : undefined;
}

export const invalidSession = (): SfError => new SfError('INVALID_SESSION_ID', 'Session expired or invalid', [], 401);

/** The session of a REST request, or the 401 INVALID_SESSION_ID Salesforce answers. */
export function requireSession(req: FastifyRequest, check: TokenCheck): AuthSession {
  const token = bearerToken(req);
  const session = token ? check(token) : undefined;
  if (!session) throw invalidSession();
  return session;
}

export function sendSfError(reply: FastifyReply, err: SfError): FastifyReply {
  return reply.code(err.status).type('application/json;charset=UTF-8').send(err.toBody());
}

/** `client=<name>` from the Sforce-Call-Options header ('' when absent). */
export function callOptionsClient(req: FastifyRequest): string {
  const header = req.headers['sforce-call-options'];
  const text = Array.isArray(header) ? header.join(',') : header ?? '';
  const m = /(?:^|,)\s*client=([^,]*)/.exec(text);
  return m ? m[1]!.trim() : '';
}
