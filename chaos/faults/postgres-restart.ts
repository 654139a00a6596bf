import { postgres } from '../../src/stack/components/postgres.ts';
import { restartOf } from './stack-restart.ts';

/** The shop database stopped for the hold: Debezium, the shop sink and the shop itself lose it. */
export const postgresRestart = restartOf(postgres, 10_000);
