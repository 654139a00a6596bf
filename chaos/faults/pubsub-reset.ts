import { repeated } from './fault.ts';

/** The Pub/Sub Subscribe streams ended with UNAVAILABLE, again every few seconds. */
export const pubsubReset = repeated('pubsub-reset', 'every Pub/Sub Subscribe stream reset (UNAVAILABLE), again every 5 s', 15_000, (w) => w.t.sb.admin.resetPubSubStreams());
