import { SchemaCatalogClient } from '../../src/avro/registry.ts';
import type { StackAddresses } from '../../src/stack/stack.ts';
import { collectMessages, type CollectedMessage } from './kafka.ts';

/**
 * Reads an Avro topic from the beginning, decoding the matching records, until `done(values)` holds
 * (re-reading while the pipeline is still producing), or fails after the timeout with what it saw.
 */
export async function waitForCommands<T>(
  stack: StackAddresses, topic: string, match: (m: CollectedMessage) => boolean, done: (values: T[]) => boolean, timeoutMs = 90_000,
): Promise<T[]> {
  const registry = new SchemaCatalogClient(stack.registry.url);
  const deadline = Date.now() + timeoutMs;
  let values: T[] = [];
  while (Date.now() < deadline) {
    const seen = await collectMessages(stack.kafka.brokers, [topic], { match, until: () => false, timeoutMs: 3_000, raw: true });
    values = await Promise.all(seen.map((m) => registry.decode<T>(m.rawValue!)));
    if (done(values)) return values;
  }
  throw new Error(`${topic}: the expected records did not all arrive in ${timeoutMs} ms; saw ${JSON.stringify(values).slice(0, 2000)}`);
}
