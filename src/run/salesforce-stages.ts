import type { Connection } from 'jsforce';
import { connectSalesforce } from '../salesforce/auth/connection.ts';
import type { SharedPieces, Stage } from './pipeline.ts';

/** One logged-in Salesforce connection per process, made on first use (jsforce re-logs in itself). */
export function lazyConnection(config: SharedPieces['config']): () => Promise<Connection> {
  let pending: Promise<Connection> | undefined;
  return () => {
    pending ??= connectSalesforce(config.salesforce).catch((err) => {
      pending = undefined;
      throw err;
    });
    return pending;
  };
}

/** The Salesforce stages of the pipeline: the change-event source and the sink. */
export async function salesforceStages(_shared: SharedPieces, _conn: () => Promise<Connection>): Promise<Stage[]> {
  return [];
}
