import { connect } from '../../src/stack/components/connect.ts';
import { restartOf } from './stack-restart.ts';

/** Kafka Connect (Debezium) stopped for the hold: the shop changes wait in the WAL, then stream. */
export const connectRestart = restartOf(connect, 15_000);
