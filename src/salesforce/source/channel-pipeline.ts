import { randomUUID } from 'node:crypto';
import type { Message, Producer } from 'kafkajs';
import type { Logger } from '../../observability/logger.ts';
import type { CheckpointStore } from './checkpoints.ts';
import type { ObjectFields } from './field-types.ts';
import { mergeImage, type Image, type ImageCache } from './images.ts';
import { cdcKafkaMessage, rereadHeader } from './messages.ts';
import type { SourceMetrics } from './metrics.ts';
import type { RestReader } from './rest-reader.ts';
import type { StartAt, Subscriber, Subscription, SubscriptionFailure } from './subscriber.ts';
import type { ChangeEvent, ImageSource, SfCdcMessage } from './types.ts';

export interface PipelineDeps {
  object: string;
  channel: string;
  cdcTopic: string;
  subscriber: Subscriber;
  producer: Producer;
  images: ImageCache;
  checkpoints: CheckpointStore;
  rest: RestReader;
  fields: () => ObjectFields;
  metrics: SourceMetrics;
  log: Logger;
  keepaliveTimeoutMs: number;
  /** Events requested from the server at a time (Pub/Sub flow control, <= 100). */
  batchSize: number;
  initialReplay: 'LATEST' | 'EARLIEST';
  alert: (kind: string, channel: string, message: string, details?: Record<string, unknown>) => void;
  onWritten?: (batch: WrittenBatch) => void;
  /** Test hook: called with the batch's record ids after Kafka acknowledged it and before its checkpoint is written (crash tests). */
  betweenKafkaWriteAndCheckpoint?: (recordIds: string[]) => void;
}

/** A batch of events Kafka acknowledged and the checkpoint after it. */
export interface WrittenBatch {
  object: string;
  /** Commit time (epoch ms) of each event of the batch. */
  commitTimestamps: number[];
  messages: number;
  /** When Kafka acknowledged the messages (epoch ms). */
  ackedAt: number;
}

type Task =
  | { kind: 'event'; event: ChangeEvent; generation: number }
  | { kind: 'subscribe'; reason: string }
  | { kind: 'reread'; reason: string; since: number; thenLatest: boolean };

/** subscribing: request sent, nothing heard back yet; live: the server answered (event or keepalive). */
export type ChannelState = 'idle' | 'subscribing' | 'live' | 'backoff' | 'stopped';

export interface ChannelStatus {
  object: string;
  channel: string;
  state: ChannelState;
  checkpoint: { replayId: string | null; commitTimestamp: number } | null;
  lastActivityAt: string | null;
  events: number;
  messages: number;
  restCalls: number;
  resubscribes: number;
  lastError: string | null;
  /**
   * The org's changes made before this start have been read: the subscription was answered, or the
   * re-read of records changed since the checkpoint (an expired replay id) is written. Until then a
   * write of ours could overwrite a change of the org we have not seen.
   */
  caughtUp: boolean;
}

const GAP_REFETCH = new Set(['GAP_CREATE', 'GAP_UPDATE', 'GAP_UNDELETE']);
/** Resubscribe backoff: doubling from the first delay to the longest, back to the first once the server answers. */
const MIN_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 60_000;
/** How long Salesforce keeps change events (three days, per its Change Data Capture documentation). */
const CHANGE_EVENT_RETENTION_MS = 72 * 3600_000;

/**
 * One channel's path from subscription to Kafka. Tasks run one at a time, in order: events are
 * turned into full-image messages, written to Kafka (acks all), and only then is the replay id
 * checkpointed; resubscribes and re-reads queue behind the events already received, so a resume
 * from the checkpoint neither skips nor repeats them.
 */
export class ChannelPipeline {
  private readonly queue: Task[] = [];
  private wake?: () => void;
  private loop?: Promise<void>;
  private sub?: Subscription;
  private generation = 0;
  private outstanding = 0;
  private stopping = false;
  private state: ChannelState = 'idle';
  private lastActivity = 0;
  private backoffMs = MIN_BACKOFF_MS;
  private rereading = false;
  private caughtUp = false;
  private backoffTimer?: NodeJS.Timeout;
  private watchdog?: NodeJS.Timeout;
  private readonly stats = { events: 0, messages: 0, restCalls: 0, resubscribes: 0, lastError: null as string | null };

  constructor(private readonly d: PipelineDeps) {}

  start(): void {
    this.push({ kind: 'subscribe', reason: 'start' });
    this.loop = this.run();
    const tick = Math.max(50, Math.min(5000, Math.floor(this.d.keepaliveTimeoutMs / 4)));
    this.watchdog = setInterval(() => this.checkStall(), tick);
    this.watchdog.unref();
  }

  /** Stops receiving, writes what was already received, then stops. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.watchdog) clearInterval(this.watchdog);
    if (this.backoffTimer) clearTimeout(this.backoffTimer);
    this.closeSubscription();
    // drop pending control tasks; events already received are still written
    for (let i = this.queue.length - 1; i >= 0; i--) if (this.queue[i].kind !== 'event') this.queue.splice(i, 1);
    this.wake?.();
    await this.loop;
    this.state = 'stopped';
  }

  /** Called with the number of REST calls a read made. */
  countRest(calls: number): void {
    this.stats.restCalls += calls;
  }

  status(): ChannelStatus {
    const cp = this.d.checkpoints.get(this.d.channel);
    return {
      object: this.d.object,
      channel: this.d.channel,
      state: this.state,
      checkpoint: cp ? { replayId: cp.replayId, commitTimestamp: cp.commitTimestamp } : null,
      lastActivityAt: this.lastActivity ? new Date(this.lastActivity).toISOString() : null,
      ...this.stats,
      caughtUp: this.caughtUp,
    };
  }

  // ---- task loop ----

  private push(task: Task): void {
    this.queue.push(task);
    this.wake?.();
  }

  private async run(): Promise<void> {
    for (;;) {
      if (this.queue.length === 0) {
        if (this.stopping) return;
        await new Promise<void>((r) => { this.wake = r; });
        this.wake = undefined;
        continue;
      }
      const head = this.queue[0];
      try {
        if (head.kind === 'event') {
          let n = 0;
          while (n < this.queue.length && n < 500 && this.queue[n].kind === 'event') n++;
          const batch = this.queue.slice(0, n) as Extract<Task, { kind: 'event' }>[];
          await this.writeEvents(batch.map((t) => t.event));
          this.queue.splice(0, n);
          this.topUp();
        } else if (head.kind === 'subscribe') {
          this.queue.shift();
          if (!this.stopping) await this.subscribe(head.reason);
        } else {
          this.queue.shift();
          if (!this.stopping) await this.rereadThenCatchUp(head);
        }
      } catch (err) {
        // Kafka or REST refused: the images touched were rolled back and nothing past the
        // checkpoint was checkpointed, so forget what was queued and resume from the checkpoint.
        this.queue.length = 0;
        this.closeSubscription();
        if (this.stopping) return;
        this.scheduleResubscribe('write-failed', err as Error, 'writing change events failed: resuming from the checkpoint');
      }
    }
  }

  // ---- subscriptions ----

  private startAt(): { startAt: StartAt; rereadSince?: number } {
    const cp = this.d.checkpoints.get(this.d.channel);
    if (!cp) return { startAt: { preset: this.d.initialReplay } };
    if (cp.replayId === null) return { startAt: { preset: 'LATEST' }, rereadSince: cp.commitTimestamp };
    return { startAt: { preset: 'CUSTOM', replayId: cp.replayId } };
  }

  /**
   * A channel's first subscription leaves a checkpoint without replay id saying from when it reads the
   * org, so that a restart before its first event re-reads what changed since by SOQL instead of
   * subscribing from a preset again. From LATEST that is now. From EARLIEST it is the start of the
   * org's retention window (change events are kept 72 hours): a restart after the retained events
   * expired (`run` down for days on a quiet object) would otherwise read nothing of what changed meanwhile.
   */
  private async writeFirstCheckpoint(): Promise<void> {
    const now = Date.now();
    const from = this.d.initialReplay === 'LATEST' ? now : now - CHANGE_EVENT_RETENTION_MS;
    await this.d.checkpoints.write(this.d.producer, {
      channel: this.d.channel, object: this.d.object, replayId: null, commitTimestamp: from, writtenAt: new Date(now).toISOString(),
    });
  }

  private async subscribe(reason: string): Promise<void> {
    this.closeSubscription();
    const { startAt, rereadSince } = this.startAt();
    if (!this.d.checkpoints.get(this.d.channel)) await this.writeFirstCheckpoint();
    const generation = ++this.generation;
    if (reason !== 'start') {
      this.stats.resubscribes++;
      this.d.metrics.resubscribes.inc({ object: this.d.object, reason });
    }
    // one event first: the client decodes concurrently until it has the schema cached, which
    // could reorder a first burst; after it, flow control tops up to batchSize
    const initial = 1;
    // not ready while a resubscribe is still being attempted: from here until the server answers
    // (a subscriber may report the server's answer before its subscribe() returns: CometD's acknowledgement)
    this.state = 'subscribing';
    let sub: Subscription;
    try {
      sub = await this.d.subscriber.subscribe(this.d.channel, this.d.object, startAt, initial, {
        onEvent: (event) => {
          if (generation !== this.generation) return;
          this.alive();
          this.outstanding = Math.max(0, this.outstanding - 1);
          this.push({ kind: 'event', event, generation });
        },
        onActivity: () => {
          if (generation === this.generation) this.alive();
        },
        onFailure: (f) => {
          if (generation === this.generation) this.onFailure(f);
        },
      });
    } catch (err) {
      this.scheduleResubscribe('subscribe-failed', err as Error, 'subscribing failed');
      return;
    }
    if (generation !== this.generation) {
      // stopped or replaced while subscribing
      sub.close();
      return;
    }
    this.sub = sub;
    this.outstanding = initial;
    this.lastActivity = Date.now();
    this.d.log.info({ channel: this.d.channel, mode: this.d.subscriber.mode, startAt, reason }, 'subscribed');
    // a checkpoint without a replay id: read back what changed since, before the new events
    if (rereadSince !== undefined) this.queue.unshift({ kind: 'reread', reason: 'resume-after-reread', since: rereadSince, thenLatest: false });
    // only a replay id can have expired: from a preset nothing is refused, so nothing of the org is left unread
    else if (startAt.preset !== 'CUSTOM' && !this.rereading) this.markCaughtUp(`subscribed from ${startAt.preset}`);
  }

  /** A sign of life from the server: the subscription is live (the server has registered it). */
  private alive(): void {
    this.lastActivity = Date.now();
    if (this.state === 'subscribing') {
      this.state = 'live';
      // only an answer proves the subscription works: a stream opened and refused at once (an
      // expired session nobody can renew) keeps backing off
      this.backoffMs = MIN_BACKOFF_MS;
    }
    // an expired replay id is refused before any answer: an answer means the events since the checkpoint come
    if (!this.rereading && !this.queue.some((t) => t.kind === 'reread')) this.markCaughtUp('subscription answered');
  }

  private markCaughtUp(how: string): void {
    if (this.caughtUp) return;
    this.caughtUp = true;
    this.d.log.info({ channel: this.d.channel, how }, 'caught up with the org: writes to it may go');
  }

  private async rereadThenCatchUp(task: Extract<Task, { kind: 'reread' }>): Promise<void> {
    this.rereading = true;
    try {
      await this.reread(task.reason, task.since, task.thenLatest);
    } finally {
      this.rereading = false;
    }
    if (!this.queue.some((t) => t.kind === 'reread')) this.markCaughtUp(`re-read (${task.reason})`);
  }

  private onFailure(f: SubscriptionFailure): void {
    if (this.stopping) return;
    const cp = this.d.checkpoints.get(this.d.channel);
    if (f.kind === 'invalid-replay') {
      this.stats.lastError = f.error.message;
      this.d.alert('replay-id-invalid', this.d.channel, `replay id ${cp?.replayId} refused by Salesforce (expired or unknown): re-reading ${this.d.object} changed since the last checkpoint, then resuming from LATEST`, { error: f.error.message });
      this.closeSubscription();
      this.push({ kind: 'reread', reason: 'replay-id-invalid', since: cp?.commitTimestamp ?? 0, thenLatest: true });
      return;
    }
    if (f.kind === 'parse') {
      this.stats.lastError = f.error.message;
      this.d.alert('parse-error', this.d.channel, `a change event could not be decoded: re-reading ${this.d.object} changed since the last checkpoint`, { error: f.error.message });
      this.push({ kind: 'reread', reason: 'parse-error', since: cp?.commitTimestamp ?? 0, thenLatest: false });
      return;
    }
    this.closeSubscription();
    this.scheduleResubscribe('stream-lost', f.error, 'subscription lost: resuming from the checkpoint');
  }

  /** One log line per attempt, saying what failed and when the next one is: the delays double, so a lasting outage logs little. */
  private scheduleResubscribe(reason: string, err: Error, what: string): void {
    this.stats.lastError = err.message;
    if (this.stopping) return;
    this.state = 'backoff';
    const delay = this.backoffMs;
    this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs * 2);
    this.d.log.warn({ channel: this.d.channel, err: err.message, retryInMs: delay }, `${what}: retrying in ${Math.round(delay / 1000)} s`);
    this.backoffTimer = setTimeout(() => this.push({ kind: 'subscribe', reason }), delay);
  }

  private closeSubscription(): void {
    this.generation++;
    this.outstanding = 0;
    const sub = this.sub;
    this.sub = undefined;
    if (sub) {
      try { sub.close(); } catch (err) { this.d.log.debug({ err }, 'closing a subscription failed'); }
    }
  }

  /** The watchdog: a live subscription silent past the keepalive timeout is replaced. */
  private checkStall(): void {
    if (this.stopping || !this.sub) return;
    const silent = Date.now() - this.lastActivity;
    if (silent <= this.d.keepaliveTimeoutMs) return;
    this.d.alert('stream-stalled', this.d.channel, `no event or keepalive for ${silent} ms: resubscribing from the checkpoint`);
    this.closeSubscription();
    this.state = 'subscribing';
    this.push({ kind: 'subscribe', reason: 'stalled' });
  }

  /** Pub/Sub flow control: keep up to batchSize events requested or waiting. */
  private topUp(): void {
    if (!this.sub || this.stopping) return;
    const queued = this.queue.length;
    const want = this.d.batchSize - this.outstanding - queued;
    if (want >= Math.ceil(this.d.batchSize / 2) || (this.outstanding === 0 && queued === 0)) {
      const n = Math.max(1, want);
      this.outstanding += n;
      this.sub.request(n);
    }
  }

  // ---- events → Kafka ----

  private async writeEvents(events: ChangeEvent[]): Promise<void> {
    const { object, images } = this.d;
    const fields = this.d.fields();
    for (const e of events) this.d.metrics.events.inc({ object, change_type: e.header.changeType });
    this.stats.events += events.length;

    // which records need a REST read: an UPDATE without image, unstated fields, GAP_* re-reads
    const known = new Set<string>();
    const fetch = new Set<string>();
    for (const e of events) {
      for (const id of e.header.recordIds) {
        const t = e.header.changeType;
        if (t === 'CREATE' || t === 'UNDELETE') known.add(id);
        else if (t === 'DELETE' || t === 'GAP_DELETE') known.delete(id);
        else if (GAP_REFETCH.has(t)) { fetch.add(id); known.add(id); }
        else if (t === 'UPDATE') {
          if ((!known.has(id) && !images.get(id)) || e.unstated.length > 0) fetch.add(id);
          known.add(id);
        }
      }
    }
    const fetched = fetch.size > 0 ? await this.d.rest.retrieve(fields, [...fetch]) : new Map<string, Record<string, unknown> | null>();

    const before = new Map<string, Image | undefined>();
    const remember = (id: string) => { if (!before.has(id)) before.set(id, images.get(id)); };
    const cdc: Message[] = [];
    const latestImage = new Map<string, Image | null>();
    const emit = (m: SfCdcMessage) => {
      cdc.push(cdcKafkaMessage(m));
      remember(m.recordId);
      images.set(m.recordId, m.record);
      latestImage.set(m.recordId, m.record);
    };
    try {
      for (const e of events) {
        const h = e.header;
        if (h.changeType === 'GAP_OVERFLOW') {
          const since = this.d.checkpoints.get(this.d.channel)?.commitTimestamp ?? h.commitTimestamp;
          this.d.alert('gap-overflow', this.d.channel, `GAP_OVERFLOW on ${object}: re-reading records changed since ${new Date(since).toISOString()} by SOQL`, { replayId: e.replayId });
          for (const r of await this.d.rest.changedSince(fields, since)) {
            const id = String(r.Id);
            emit({ ...this.base(e, id), changed: {}, record: r, imageSource: 'rest', origin: this.d.subscriber.mode, rereadReason: 'gap-overflow' });
          }
          continue;
        }
        if (h.changeType.startsWith('GAP_')) {
          this.d.alert('gap', this.d.channel, `${h.changeType} on ${object} for ${h.recordIds.length} record(s): re-read by REST`, { replayId: e.replayId, recordIds: h.recordIds.slice(0, 20) });
        }
        for (const id of h.recordIds) {
          const { record, source } = this.imageAfter(e, id, fetched);
          emit({ ...this.base(e, id), changed: e.fields, record, imageSource: source, origin: this.d.subscriber.mode });
        }
      }
      await this.produce(cdc, latestImage);
    } catch (err) {
      for (const [id, img] of before) images.set(id, img ?? null);
      throw err;
    }
    const ackedAt = Date.now();
    this.d.betweenKafkaWriteAndCheckpoint?.(events.flatMap((e) => e.header.recordIds));
    const last = events[events.length - 1];
    await this.d.checkpoints.write(this.d.producer, {
      channel: this.d.channel, object, replayId: last.replayId, commitTimestamp: last.header.commitTimestamp, writtenAt: new Date().toISOString(),
    });
    for (const e of events) this.d.metrics.commitToKafka.observe({ object }, Math.max(0, ackedAt - e.header.commitTimestamp) / 1000);
    this.d.onWritten?.({ object, commitTimestamps: events.map((e) => e.header.commitTimestamp), messages: cdc.length, ackedAt });
  }

  private base(e: ChangeEvent, id: string): Pick<SfCdcMessage, 'replayId' | 'position' | 'channel' | 'object' | 'recordId' | 'changeType' | 'ChangeEventHeader'> {
    return {
      replayId: e.replayId, position: e.replayId, channel: this.d.channel, object: this.d.object, recordId: id,
      changeType: e.header.changeType, ChangeEventHeader: e.header,
    };
  }

  /** The full image of a record after event `e`, and where it came from. */
  private imageAfter(e: ChangeEvent, id: string, fetched: Map<string, Record<string, unknown> | null>): { record: Image | null; source: ImageSource } {
    const t = e.header.changeType;
    if (t === 'DELETE' || t === 'GAP_DELETE') return { record: null, source: 'none' };
    if (t === 'CREATE' || t === 'UNDELETE') return { record: { ...e.fields, Id: id }, source: 'event' };
    if (GAP_REFETCH.has(t)) {
      const r = fetched.get(id) ?? null;
      return { record: r, source: r ? 'rest' : 'none' };
    }
    // UPDATE: a REST read is used once (it is the newest state); later updates merge into it
    const r = fetched.get(id);
    if (r !== undefined) {
      fetched.delete(id);
      if (r) return { record: r, source: 'rest' };
    }
    const previous = this.d.images.get(id);
    if (previous) return { record: mergeImage(previous, e.fields), source: 'image' };
    return { record: { ...e.fields, Id: id }, source: 'partial' };
  }

  private async produce(cdc: Message[], latestImage: Map<string, Image | null>): Promise<void> {
    if (cdc.length === 0) return;
    const imageMessages: Message[] = [...latestImage].map(([id, img]) => ({ key: id, value: img === null ? null : JSON.stringify(img) }));
    await this.d.producer.sendBatch({
      acks: -1,
      topicMessages: [{ topic: this.d.cdcTopic, messages: cdc }, { topic: this.d.images.topic, messages: imageMessages }],
    });
    this.stats.messages += cdc.length;
    this.d.metrics.messages.inc({ object: this.d.object }, cdc.length);
  }

  // ---- re-reads ----

  /**
   * Reads back every record changed since `since` (SOQL on LastModifiedDate) and publishes
   * each as a 'reread' message. With `thenLatest`, subscribes from LATEST first (so nothing
   * committed during the read is missed) and leaves a checkpoint without replay id.
   */
  private async reread(reason: string, since: number, thenLatest: boolean): Promise<void> {
    const startedAt = Date.now();
    if (thenLatest) {
      await this.d.checkpoints.write(this.d.producer, {
        channel: this.d.channel, object: this.d.object, replayId: null, commitTimestamp: since, writtenAt: new Date().toISOString(),
      });
      await this.subscribe(reason);
      // subscribe() queued a re-read since the checkpoint (which has no replay id now): that is this one
      if (this.queue[0]?.kind === 'reread') this.queue.shift();
    }
    const fields = this.d.fields();
    const records = await this.d.rest.changedSince(fields, since);
    const cdc: Message[] = [];
    const latestImage = new Map<string, Image | null>();
    const transactionKey = `reread-${randomUUID()}`;
    for (const r of records) {
      const id = String(r.Id);
      const header = rereadHeader(this.d.object, r, transactionKey);
      const m: SfCdcMessage = {
        replayId: null, position: `reread:${header.commitTimestamp}:${id}`, channel: this.d.channel, object: this.d.object,
        recordId: id, changeType: header.changeType, ChangeEventHeader: header, changed: {}, record: r,
        imageSource: 'rest', origin: 'reread', rereadReason: reason,
      };
      cdc.push(cdcKafkaMessage(m));
      this.d.images.set(id, r);
      latestImage.set(id, r);
    }
    await this.produce(cdc, latestImage);
    // resuming from a checkpoint without replay id is the planned way back after a restart; the other
    // reasons are faults (an expired replay id, a gap, an event that would not decode)
    const level = reason === 'resume-after-reread' ? 'info' : 'warn';
    this.d.log[level]({ channel: this.d.channel, reason, since: new Date(since).toISOString(), records: records.length }, 're-read records by SOQL');
    if (thenLatest || reason === 'resume-after-reread') {
      const cp = this.d.checkpoints.get(this.d.channel);
      // only move a replay-id-less checkpoint forward; a newer event checkpoint stays
      if (!cp || cp.replayId === null) {
        await this.d.checkpoints.write(this.d.producer, {
          channel: this.d.channel, object: this.d.object, replayId: null, commitTimestamp: startedAt, writtenAt: new Date().toISOString(),
        });
      }
    }
  }
}
