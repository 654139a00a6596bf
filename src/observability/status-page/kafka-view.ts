import { logLevel } from 'kafkajs';
import { createKafka } from '../../kafka/client.ts';
import type { ShopforceConfig } from '../../config/schema.ts';
import { DlqTail } from '../../dlq/dlq-tail.ts';
import { topicNames } from '../../flows/topic-names.ts';
import { consumerStages, type DeadLetterSummary } from '../../status/status.ts';
import type { Logger } from '../logger.ts';
import type { StatusSnapshot } from './types.ts';

export interface KafkaViewOptions {
  /** How often the consumer groups and dead letters are read again when nothing asks sooner. */
  everyMs: number;
  /** Dead letters listed with their reasons. */
  latestDeadLetters: number;
}

/**
 * What Kafka knows beyond this process — each stage's consumer group and lag (`shopforce status`
 * reads the same), the dead letters with their reasons (followed by a DlqTail, which reads each
 * once) — read in the background, one read at a time, every `everyMs` and soon after this process
 * dead-letters a record.
 */
export class KafkaView {
  private groups: StatusSnapshot['groups'] = { at: null, stages: [], error: null };
  private letters: Omit<StatusSnapshot['deadLetters'], 'sentByThisProcess'> = { at: null, summary: null, error: null };
  private reading?: Promise<void>;
  private again = false;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private readonly tail: DlqTail;

  constructor(private readonly config: ShopforceConfig, private readonly log: Logger, private readonly opts: KafkaViewOptions) {
    const kafka = createKafka(config.kafka, `${config.kafka.clientId}-status-page`, { logLevel: logLevel.NOTHING });
    this.tail = new DlqTail(kafka, topicNames(config.kafka.topicNamespace).dlq, opts.latestDeadLetters, () => this.refresh());
  }

  start(): void {
    this.refresh();
  }

  /** Reads again as soon as the read in progress (if any) is done: a new dead letter was sent. */
  refresh(): void {
    if (this.stopped) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.reading = this.read().finally(() => {
      this.reading = undefined;
      if (this.stopped) return;
      if (this.again) {
        this.again = false;
        this.refresh();
      } else {
        this.timer = setTimeout(() => this.refresh(), this.opts.everyMs);
        this.timer.unref();
      }
    });
  }

  current(): { groups: StatusSnapshot['groups']; deadLetters: Omit<StatusSnapshot['deadLetters'], 'sentByThisProcess'> } {
    return { groups: this.groups, deadLetters: this.letters };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.reading;
    await this.tail.stop();
  }

  /** The dead letters read so far; none while the topic does not exist (nothing has failed yet). */
  private async deadLetters(): Promise<DeadLetterSummary> {
    if (!this.tail.started) {
      try {
        await this.tail.start();
      } catch (err) {
        if (/does not exist/.test((err as Error).message)) return { topic: this.tail.topic, exists: false, total: 0, notReplayed: 0, latest: [] };
        throw err;
      }
    }
    return this.tail.summary();
  }

  private async read(): Promise<void> {
    const [stages, letters] = await Promise.allSettled([consumerStages(this.config), this.deadLetters()]);
    const at = new Date().toISOString();
    if (stages.status === 'fulfilled') this.groups = { at, stages: stages.value, error: null };
    else this.groups = { ...this.groups, error: this.failed('consumer groups', stages.reason) };
    if (letters.status === 'fulfilled') this.letters = { at, summary: letters.value, error: null };
    else this.letters = { ...this.letters, error: this.failed('dead letters', letters.reason) };
  }

  private failed(what: string, reason: unknown): string {
    const message = (reason as Error)?.message ?? String(reason);
    this.log.debug({ err: reason }, `the status page could not read the ${what}`);
    return message;
  }
}
