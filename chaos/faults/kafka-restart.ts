import { kafka } from '../../src/stack/components/kafka.ts';
import { restartOf } from './stack-restart.ts';

/** The Kafka broker stopped for the hold, then started again: every stage loses its broker. */
export const kafkaRestart = restartOf(kafka, 15_000);
