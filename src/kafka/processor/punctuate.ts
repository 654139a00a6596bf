import type { TopicMessages } from 'kafkajs';
import { errorMessage } from '../errors.ts';
import type { Punctuation } from '../types.ts';
import { commitPunctuation, type CommitDeps } from './commit.ts';
import { stateOf, toMessages } from './record.ts';
import type { ProcessorSettings } from './settings.ts';
import type { Task, Tasks } from './task.ts';

/** What punctuating needs of its processor. */
export interface PunctuatorDeps<S> {
  s: Pick<ProcessorSettings<unknown, S>, 'name' | 'changelogTopic' | 'classify' | 'log' | 'metrics' | 'label'>;
  punctuation: Punctuation<S>;
  tasks: Tasks<S>;
  commit: CommitDeps<S>;
  /** False once stop() was called: only the final punctuation runs then. */
  running: () => boolean;
}

/**
 * Calls the processor's punctuation for its partitions, each in its task's turn (after the batch
 * in hand, before the next), and commits what it wrote (commitPunctuation). One punctuation per
 * task waits at a time: ticks that find one waiting add none.
 */
export class Punctuator<S> {
  private readonly waiting = new WeakSet<Task<S>>();

  constructor(private readonly deps: PunctuatorDeps<S>) {}

  /**
   * A tick: queues a punctuation for each of the `owned` partitions that is taken over and
   * restored. An owned partition without a task (dropped after a failed commit) is taken over
   * again, and punctuated from the next tick on.
   */
  tick(owned: number[]): void {
    for (const p of owned) {
      const task = this.deps.tasks.current(p);
      if (task) void this.inTurn(task, false).catch(() => undefined);
      else if (!this.deps.tasks.has(p)) void this.deps.tasks.get(p).catch(() => undefined);
    }
  }

  /** The final punctuation of each of the `owned` partitions this member holds a task for. */
  async final(owned: number[]): Promise<void> {
    await Promise.all(owned.filter((p) => this.deps.tasks.has(p)).map(async (p) => {
      const task = await this.deps.tasks.get(p).catch(() => undefined);
      if (task) await this.inTurn(task, true).catch(() => undefined);
    }));
  }

  private inTurn(task: Task<S>, final: boolean): Promise<void> {
    if (!final) {
      if (this.waiting.has(task)) return Promise.resolve();
      this.waiting.add(task);
    }
    const run = task.busy.then(() => {
      if (!final) this.waiting.delete(task);
      return this.punctuate(task, final);
    });
    task.busy = run.catch(() => undefined);
    return run;
  }

  private async punctuate(task: Task<S>, final: boolean): Promise<void> {
    const { s, punctuation, tasks, commit } = this.deps;
    if (tasks.current(task.partition) !== task) return; // released meanwhile
    if (!final && !this.deps.running()) return; // stopping: the final one follows
    // between batches nothing is pending; if anything were, it belongs to no committed record
    task.store.abortBatch();
    const now = Date.now();
    let messages: TopicMessages[];
    try {
      const outputs = (await punctuation.handle({ partition: task.partition, state: stateOf(s, task), now, final, log: s.log })) ?? [];
      messages = toMessages(s.name, outputs, undefined);
      task.store.acceptRecord();
    } catch (err) {
      task.store.abortBatch();
      const errorClass = s.classify(err);
      s.metrics.errors.inc({ ...s.label, error_class: errorClass });
      s.log.warn({ partition: task.partition, final, errorClass, err: errorMessage(err) }, final ? 'the final punctuation failed' : 'punctuation failed: its state writes are dropped, it runs again on the next tick');
      return;
    }
    try {
      await commitPunctuation(commit, task, messages, final);
    } catch (err) {
      // commitPunctuation logged it and released the partition (fenced or not, it is taken over again)
      s.log.debug({ partition: task.partition, err: errorMessage(err) }, 'punctuation not committed');
    }
  }
}
