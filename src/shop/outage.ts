/**
 * The shop database down or going away (a restart, a failover, a network cut): not the record's fault
 * and not worth a short retry budget either. A stage that meets it pauses and waits for the database
 * (StagePause), so nothing is dead-lettered for an outage and nothing is read past the record in hand.
 */
import { InfraError } from '../kafka/errors.ts';

/** Node's socket errors of a connection that could not be opened or was cut. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND']);

/**
 * SQLSTATEs of a server shutting down or starting: 57P01 admin shutdown, 57P02 crash shutdown, 57P03
 * cannot connect now (starting up, shutting down, recovery); class 08, connection exceptions.
 */
const OUTAGE_SQLSTATE = /^(57P0[123]|08)/;

/** What node-postgres says (without a code) when the server closed the connection under it. */
const CUT_MESSAGES = /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Connection closed/i;

/** True when `err` (or an error it wraps) says the shop database is unreachable, not that a statement failed. */
export function isShopDatabaseOutage(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || OUTAGE_SQLSTATE.test(code))) return true;
    if (typeof code !== 'string' && typeof message === 'string' && CUT_MESSAGES.test(message)) return true;
  }
  return false;
}

/** Runs a call to the shop database; an outage comes out as an InfraError (the stage pauses), any other error as it was. */
export async function againstShopDatabase<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof InfraError || !isShopDatabaseOutage(err)) throw err;
    throw new InfraError(`shop database unavailable (${what}): ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}
