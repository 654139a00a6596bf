import { repeated } from './fault.ts';

/** Every access token revoked, again every few seconds (401 INVALID_SESSION_ID, Pub/Sub auth errors). */
export const sessionExpiry = repeated('session-expiry', 'every session expired, again every 5 s', 15_000, (w) => w.t.sb.admin.expireSessions());
