import type { Connection } from 'jsforce';
import type { Logger } from '../../observability/logger.ts';

/**
 * Renews a Salesforce session the streaming server refused, before a channel subscribes again. The
 * subscription protocols (Pub/Sub's gRPC stream, CometD's handshake) only say "unauthenticated": they
 * never renew a session themselves. A cheap REST call answered 401 makes jsforce log in again; channels
 * resubscribing together share one call. A failed renewal fails the subscribe, so the channel backs off
 * and says why; the session stays suspect until a renewal succeeds.
 */
export class SessionCheck {
  private suspect = false;
  private pending?: Promise<void>;

  constructor(private readonly conn: Connection, private readonly apiVersion: string, private readonly log: Logger) {}

  /** The server refused the session: renew it before the next subscribe. */
  markSuspect(): void {
    this.suspect = true;
  }

  /** Renews the session when the server refused it since the last renewal; otherwise nothing. */
  async beforeSubscribe(): Promise<void> {
    if (!this.suspect) return;
    this.pending ??= this.conn.request(`/services/data/v${this.apiVersion}/`).then(
      () => { this.log.debug('Salesforce session checked before resubscribing'); },
      (err: unknown) => { throw new Error(`the Salesforce session could not be renewed: ${(err as Error).message}`, { cause: err }); },
    ).finally(() => { this.pending = undefined; });
    await this.pending;
    this.suspect = false;
  }
}
