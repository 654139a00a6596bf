import { Partitioners, type Kafka, type Producer } from 'kafkajs';

/** Errors that mean another member took this partition's transactional id over. */
export function isFenced(err: unknown): boolean {
  const seen = new Set<unknown>();
  for (let e = err as { type?: string; cause?: unknown } | undefined; e && !seen.has(e); e = e.cause as typeof e) {
    seen.add(e);
    if (e.type === 'INVALID_PRODUCER_EPOCH' || e.type === 'PRODUCER_FENCED' || e.type === 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED') return true;
  }
  return false;
}

/**
 * The transactional producer of one partition number, connected and with its epoch bumped: any
 * older producer with this transactional id is fenced and its open transaction aborted (or
 * waited out) by the time this resolves.
 */
export async function fencingProducer(kafka: Kafka, transactionalId: string): Promise<Producer> {
  const p = kafka.producer({
    transactionalId,
    createPartitioner: Partitioners.DefaultPartitioner, // murmur2, as Java clients (Debezium, Connect) partition keys
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    // starting a transaction right after the previous commit often meets CONCURRENT_TRANSACTIONS
    // while the broker writes the commit markers; kafkajs' default 300 ms first retry would add
    // that much latency to every such batch, so retry sooner (and more often)
    retry: { initialRetryTime: 20, retries: 12, maxRetryTime: 5_000 },
  });
  await p.connect();
  try {
    // the first transaction() runs InitProducerId for the transactional id: it bumps the epoch,
    // which fences any older producer with this id and aborts (or waits out) its open transaction
    const tx = await p.transaction();
    await tx.abort();
  } catch (err) {
    await p.disconnect().catch(() => undefined);
    throw err;
  }
  return p;
}
