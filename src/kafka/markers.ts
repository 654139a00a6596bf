import type { Consumer } from 'kafkajs';

/**
 * A fetched batch that held no record for us: only transaction markers (commit or abort) or the
 * records of aborted transactions — what a crashed or fenced writer leaves at the end of a
 * partition, or markers fetched apart from their records. Every write of a transactional
 * producer ends with a marker that takes an offset; a stage that has read everything must commit
 * past it, or `shopforce status` and the Kafka tools show a lag on an idle pipeline. The batch
 * loops commit past the markers that end a batch with records; kafkajs passes over batches
 * without records on its own but commits them only with autoCommit, which the stages do not use.
 */
export interface MarkerBatch {
  topic: string;
  partition: number;
  /** Offset of the batch's first marker (or aborted record). */
  firstOffset: bigint;
  /** Offset of its last one: the offset to commit is lastOffset + 1. */
  lastOffset: bigint;
}

/** Calls `handle` for each marker-only batch `consumer` passes over (after the batches before it). */
export function onMarkerBatches(consumer: Consumer, handle: (batch: MarkerBatch) => void): void {
  consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
    const { batchSize, topic, partition, firstOffset, lastOffset } = e.payload;
    if (batchSize !== 0 || firstOffset === null || firstOffset === undefined) return;
    handle({ topic, partition, firstOffset: BigInt(firstOffset), lastOffset: BigInt(lastOffset) });
  });
}
