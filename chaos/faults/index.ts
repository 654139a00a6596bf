/** Every fault of the chaos suite, in the order a full run injects them; the last ones combine several. */
import { cometdDrop } from './cometd-drop.ts';
import { emulatorRestart } from './emulator-restart.ts';
import { gapEvents } from './gap-events.ts';
import { http5xx } from './http-5xx.ts';
import { lockRow } from './lock-row.ts';
import { pubsubReset } from './pubsub-reset.ts';
import { quotaExhausted } from './quota-exhausted.ts';
import { replayExpired } from './replay-expired.ts';
import { sessionExpiry } from './session-expiry.ts';
import { together, type Fault } from './fault.ts';
import { killRun } from './kill-run.ts';
import { connectRestart } from './connect-restart.ts';
import { kafkaRestart } from './kafka-restart.ts';
import { postgresRestart } from './postgres-restart.ts';

export type { Fault } from './fault.ts';

export const FAULTS: Fault[] = [
  killRun, http5xx, lockRow, quotaExhausted, sessionExpiry, pubsubReset, cometdDrop, gapEvents, replayExpired,
  emulatorRestart, postgresRestart, connectRestart, kafkaRestart,
  together('kill-run+5xx+lock-row+session-expiry', [http5xx, lockRow, sessionExpiry, killRun]),
  together('kafka+emulator-restart', [kafkaRestart, emulatorRestart]),
];

/** The faults the CI test runs: short, and each a different layer. */
export const SHORT_FAULTS = ['kill-run', 'http-5xx', 'lock-row'];
