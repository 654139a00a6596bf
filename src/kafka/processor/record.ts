import type { KafkaMessage, Message, TopicMessages } from 'kafkajs';
import { headerText, type DlqFailure } from '../dlq.ts';
import { DecodeError, errorMessage } from '../errors.ts';
import { RetriesExhaustedError, withRetry } from '../retry.ts';
import type { StateView } from '../state-store.ts';
import { SOURCE_TIME_HEADER, type Output, type RecordContext } from '../types.ts';
import { deadLetter } from './dead-letter.ts';
import type { ProcessorSettings } from './settings.ts';
import type { Task } from './task.ts';

/** The outcome of one record: what to produce, or a stop request (processor shutting down). */
export type RecordResult = { messages: TopicMessages[]; sourceTime?: number } | 'stopped';

/** ctx.state of a processor without `state`: any use is a programming error. */
export class NoState implements StateView<never> {
  constructor(private readonly name: string) {}
  private fail(): never {
    throw new Error(`processor ${this.name} has no state: pass \`state\` to createProcessor to use ctx.state`);
  }
  get(): undefined { return this.fail(); }
  has(): boolean { return this.fail(); }
  set(): void { this.fail(); }
  delete(): void { this.fail(); }
  get size(): number { return this.fail(); }
  keys(): IterableIterator<string> { return this.fail(); }
  entries(): IterableIterator<[string, never]> { return this.fail(); }
}

/** The handler's view of a task's state (NoState when the processor has none). */
export function stateOf<S>(s: Pick<ProcessorSettings<unknown, S>, 'name' | 'changelogTopic'>, task: Task<S>): StateView<S> {
  return s.changelogTopic ? task.store : new NoState(s.name) as StateView<S>;
}

/** Outputs as kafkajs topic messages; `sourceTime` goes on as a header unless an output sets its own. */
export function toMessages(processor: string, outputs: Output[], sourceTime: number | undefined): TopicMessages[] {
  const byTopic = new Map<string, Message[]>();
  for (const o of outputs) {
    if (!o.topic) throw new Error(`processor ${processor}: an output has no topic`);
    const headers = { ...(o.headers ?? {}) };
    if (sourceTime !== undefined && headers[SOURCE_TIME_HEADER] === undefined) headers[SOURCE_TIME_HEADER] = String(sourceTime);
    const list = byTopic.get(o.topic) ?? [];
    list.push({ key: o.key ?? null, value: o.value, headers, partition: o.partition, timestamp: o.timestamp });
    byTopic.set(o.topic, list);
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

/**
 * Decodes and handles one record, with retries per error class. Its state writes join the
 * task's pending batch when it succeeds and are dropped when it fails; a record that fails for
 * good (decode error, non-retryable error, spent retry budget) yields its DLQ record instead of
 * outputs. 'stopped' when `signal` aborted a retry wait (the processor is stopping). The caller counts
 * it in `consumed`.
 */
export async function processRecord<T, S>(s: ProcessorSettings<T, S>, task: Task<S>, topic: string, partition: number, message: KafkaMessage, signal: AbortSignal): Promise<RecordResult> {
  const { metrics, label, log, classify, policy } = s;
  const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, headerText(v)]));
  const onRetry = ({ errorClass, retry, delayMs, error }: { errorClass: string; retry: number; delayMs: number; error: unknown }) => {
    metrics.retries.inc({ ...label, error_class: errorClass });
    log.debug({ topic, partition, offset: message.offset, errorClass, retry, delayMs, err: errorMessage(error) }, 'retrying record');
  };
  const retryHooks = { classify, onRetry, signal };

  let value: T;
  try {
    value = await withRetry(async () => {
      try {
        return await s.decode(message, topic);
      } catch (err) {
        const cls = classify(err);
        metrics.errors.inc({ ...label, error_class: cls === 'fatal' ? 'decode' : cls });
        throw policy.classes[cls] ? err : new DecodeError(`cannot decode ${topic}[${partition}]@${message.offset}: ${errorMessage(err)}`, { cause: err });
      }
    }, policy, retryHooks);
  } catch (err) {
    if (signal.aborted) return 'stopped';
    const attempts = err instanceof RetriesExhaustedError ? err.attempts : 1;
    return { messages: deadLetter(s, { topic, partition, message, failure: 'decode', error: err, attempts }) };
  }

  const hinted = Number(headers[SOURCE_TIME_HEADER]);
  let sourceTime: number | undefined = Number.isFinite(hinted) && hinted > 0 ? hinted : undefined;
  const state = stateOf(s, task);
  try {
    const outputs = await withRetry(async (attempt) => {
      const ctx: RecordContext<T, S> = {
        topic, partition, offset: message.offset, timestamp: message.timestamp, key: message.key, value, headers, message,
        state, attempt, signal, log,
        setSourceTime: (ms) => { sourceTime = ms; },
      };
      try {
        return (await s.opts.handle(ctx)) ?? [];
      } catch (err) {
        task.store.discardRecord();
        metrics.errors.inc({ ...label, error_class: classify(err) });
        throw err;
      }
    }, policy, retryHooks);
    const messages = toMessages(s.name, outputs, sourceTime);
    task.store.acceptRecord();
    return { messages, sourceTime };
  } catch (err) {
    task.store.discardRecord();
    if (signal.aborted) return 'stopped';
    const exhausted = err instanceof RetriesExhaustedError ? err : undefined;
    const errorClass = exhausted ? exhausted.errorClass : classify(err);
    const failure: DlqFailure = policy.classes[errorClass] ? 'retries-exhausted' : 'non-retryable';
    return { messages: deadLetter(s, { topic, partition, message, failure, error: err, attempts: exhausted?.attempts ?? 1 }) };
  }
}
