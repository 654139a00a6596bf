import type { KafkaMessage } from 'kafkajs';
import { errorMessage } from '../errors.ts';
import { stateOf } from './record.ts';
import type { ProcessorSettings } from './settings.ts';
import type { Task } from './task.ts';

/**
 * Hands a chunk's decoded values to the processor's prefetch (ProcessorOptions.prefetch) before its
 * records are handled. Values that do not decode are left out (their record is dead-lettered when
 * handled); a failing prefetch is logged and ignored: each handler then looks up what it misses.
 */
export async function prefetchChunk<T, S>(s: ProcessorSettings<T, S>, task: Task<S>, topic: string, partition: number, messages: KafkaMessage[], signal: AbortSignal): Promise<void> {
  const prefetch = s.opts.prefetch;
  if (!prefetch || messages.length === 0) return;
  const values: T[] = [];
  for (const message of messages) {
    try {
      values.push(await s.decode(message, topic));
    } catch {
      // dead-lettered with its reason when its record is handled
    }
  }
  try {
    await prefetch({ topic, partition, values, state: stateOf(s, task), signal, log: s.log });
  } catch (err) {
    s.log.warn({ topic, partition, records: messages.length, err: errorMessage(err) }, 'prefetch failed: each record looks up what it needs itself');
  }
}
