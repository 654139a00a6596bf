// A Salesforce change-event source in its own process, for crash tests. Configured by env:
// SOURCE_CONFIG (JSON: brokers, sfConfig, objects, topicPrefix, imageTopic, checkpointTopic,
// partitions, initialReplay) and CRASH_BETWEEN_KAFKA_WRITE_AND_CHECKPOINT=n: SIGKILL itself the
// n-th time a batch was acknowledged by Kafka and its checkpoint is not written yet.
import { Kafka, logLevel } from 'kafkajs';
import type { SalesforceConfig } from '../../src/salesforce/auth/connection.ts';
import { createSalesforceSource } from '../../src/salesforce/source/index.ts';
import { createLogger } from '../../src/observability/logger.ts';

interface WorkerConfig {
  brokers: string[]; sfConfig: SalesforceConfig; objects: string[]; topicPrefix: string; imageTopic: string; checkpointTopic: string;
  partitions: number; initialReplay: 'LATEST' | 'EARLIEST';
}
const cfg = JSON.parse(process.env.SOURCE_CONFIG ?? '') as WorkerConfig;
const crashAt = Number(process.env.CRASH_BETWEEN_KAFKA_WRITE_AND_CHECKPOINT ?? 0);
let written = 0;

const source = createSalesforceSource({
  ...cfg, kafka: new Kafka({ brokers: cfg.brokers, clientId: 'source-worker', logLevel: logLevel.NOTHING }),
  logger: createLogger('source-worker', process.env.LOG_LEVEL ?? 'silent'),
  betweenKafkaWriteAndCheckpoint() {
    written++;
    if (written === crashAt) process.kill(process.pid, 'SIGKILL');
  },
});
process.on('SIGTERM', () => { void source.stop().then(() => process.exit(0)); });
await source.start();
process.send?.('started');
