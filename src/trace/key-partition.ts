/**
 * The partition a keyed record is on: kafkajs' DefaultPartitioner (murmur2 of the key bytes, as the
 * Java clients — Kafka Connect, Debezium — partition), which every shopforce producer uses.
 */
import { Partitioners, type PartitionMetadata } from 'kafkajs';

const partitioner = Partitioners.DefaultPartitioner();

export function partitionOf(key: string | Buffer, partitions: number): number {
  const partitionMetadata: PartitionMetadata[] = Array.from({ length: partitions }, (_, i) => ({ partitionId: i, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
  return partitioner({ topic: 'any', partitionMetadata, message: { key, value: null } });
}
