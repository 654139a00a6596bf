import { repeated } from './fault.ts';

/** CometD clients dropped (403::Unknown client): a Streaming API subscriber re-handshakes. */
export const cometdDrop = repeated('cometd-drop', 'every CometD client dropped (403::Unknown client), again every 5 s; touches `run` only in source mode streaming',
  10_000, (w) => w.t.sb.admin.dropCometdClients());
