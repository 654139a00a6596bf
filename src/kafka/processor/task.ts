import type { Admin, Producer } from 'kafkajs';
import { classifyError, errorMessage } from '../errors.ts';
import { PartitionStore, restorePartitions } from '../state-store.ts';
import { fencingProducer } from './fencing.ts';
import type { ProcessorSettings } from './settings.ts';

/** What one partition number ("task") needs while this member owns it. */
export interface Task<S> {
  partition: number;
  /** Transactional producer with id `<prefix>.<partition>` (transactional mode only). */
  producer?: Producer;
  store: PartitionStore<S>;
  /** Committed offset per input topic read after fencing: records below it are done already. */
  floors: Map<string, bigint>;
  /** Per input topic, the offset after the last record (or transaction marker) this member committed. */
  handledTo: Map<string, bigint>;
  /** Serializes the work on this partition number: batches of its input topics, punctuations. */
  busy: Promise<void>;
}

type TaskSettings<S> = Pick<ProcessorSettings<unknown, S>, 'kafka' | 'groupId' | 'topics' | 'transactional' | 'name' | 'log' | 'metrics' | 'label' | 'changelogTopic' | 'codec' | 'txPrefix'>;

/**
 * The partitions this member has taken over or is taking over. Taking a partition over (1) fences
 * the previous owner by initialising the transactional producer `<prefix>.<partition>`
 * (transactional mode), (2) restores the partition's state from its changelog partition, (3)
 * re-reads the group's committed offsets ("floors"), so that records below them are skipped.
 */
export class Tasks<S> {
  private readonly tasks = new Map<number, Promise<Task<S>>>();
  /** The tasks taken over and restored. */
  private readonly restored = new Map<number, Task<S>>();

  /** `admin` is the processor's admin client (connected while the processor runs). */
  constructor(private readonly s: TaskSettings<S>, private readonly admin: () => Admin) {}

  /** Starts taking the partitions over; each gets its own promise. */
  takeOver(partitions: number[]): void {
    const all = this.takeOverNow(partitions);
    for (const p of partitions) {
      const one = all.then((m) => m.get(p)!);
      this.tasks.set(p, one);
      one.then((task) => { if (this.tasks.get(p) === one) this.restored.set(p, task); }, (err: unknown) => {
        if (this.tasks.get(p) === one) this.tasks.delete(p);
        // a broker still electing its coordinators (a fresh cluster, a restart) answers with retriable
        // errors: the next batch retries, and only other failures are worth a warning
        const level = classifyError(err) === 'transient' || /coordinator/i.test(errorMessage(err)) ? 'info' : 'warn';
        this.s.log[level]({ partition: p, err: errorMessage(err) }, 'taking a partition over failed; retried shortly');
      });
    }
  }

  /** The partition's task, taking the partition over first when this member holds none for it. */
  get(partition: number): Promise<Task<S>> {
    if (!this.tasks.has(partition)) this.takeOver([partition]);
    return this.tasks.get(partition)!;
  }

  has(partition: number): boolean {
    return this.tasks.has(partition);
  }

  /** Partition numbers taken over or being taken over. */
  partitions(): number[] {
    return [...this.tasks.keys()];
  }

  isRestored(partition: number): boolean {
    return this.restored.has(partition);
  }

  /** The partition's task once taken over and restored, until released. */
  current(partition: number): Task<S> | undefined {
    return this.restored.get(partition);
  }

  /** Drops the partition's state and disconnects its producer. */
  async release(partition: number): Promise<void> {
    const pending = this.tasks.get(partition);
    this.tasks.delete(partition);
    this.restored.delete(partition);
    if (!pending) return;
    const task = await pending.catch(() => undefined);
    await task?.producer?.disconnect().catch(() => undefined);
  }

  private async takeOverNow(partitions: number[]): Promise<Map<number, Task<S>>> {
    const { kafka, transactional, log, metrics, label, changelogTopic, codec, txPrefix } = this.s;
    const started = Date.now();
    const fenced = transactional ? await Promise.allSettled(partitions.map((p) => fencingProducer(kafka, `${txPrefix}.${p}`))) : [];
    const producers = fenced.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    try {
      const failed = fenced.find((r) => r.status === 'rejected');
      if (failed) throw new Error(`processor ${this.s.name}: fencing partitions ${partitions.join(', ')} failed: ${errorMessage(failed.reason)}`, { cause: failed.reason });
      const stores = changelogTopic
        ? await restorePartitions(kafka, changelogTopic, partitions, codec, log)
        : new Map(partitions.map((p) => [p, new PartitionStore<S>(p, codec)]));
      const floors = transactional ? await this.fetchFloors(partitions) : new Map<number, Map<string, bigint>>();
      metrics.restoreSeconds.observe(label, (Date.now() - started) / 1000);
      log.info({ partitions, ms: Date.now() - started }, 'partitions taken over');
      return new Map(partitions.map((p, i) => [p, {
        partition: p,
        producer: producers[i],
        store: stores.get(p)!,
        floors: floors.get(p) ?? new Map(),
        handledTo: new Map(),
        busy: Promise.resolve(),
      }]));
    } catch (err) {
      await Promise.all(producers.map((p) => p.disconnect().catch(() => undefined)));
      throw err;
    }
  }

  private async fetchFloors(partitions: number[]): Promise<Map<number, Map<string, bigint>>> {
    const result = new Map(partitions.map((p) => [p, new Map<string, bigint>()]));
    const committed = await this.admin().fetchOffsets({ groupId: this.s.groupId, topics: this.s.topics });
    for (const { topic, partitions: ps } of committed) {
      for (const { partition, offset } of ps) {
        const floors = result.get(partition);
        if (floors && Number(offset) >= 0) floors.set(topic, BigInt(offset));
      }
    }
    return result;
  }
}
