import crypto from 'node:crypto';
import path from 'node:path';
import { createRequire } from 'node:module';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import type { AuthSession, TokenCheck } from '../auth/session.ts';
import { ALL_CHANGE_EVENTS, isPlatformEventName } from './channels.ts';
import type { EventFilter } from './event-log.ts';
import type { EventBus } from './event-bus.ts';
import { PUBSUB_ERROR, pubSubStatus, type PubSubStatus } from './pubsub-errors.ts';
import { decodeReplayId, encodeReplayId } from './replay-id.ts';
import type { NewEvent, StoredEvent } from './stored-event.ts';

/** Most events Pub/Sub sends for one FetchRequest, and per FetchResponse. */
export const MAX_NUM_REQUESTED = 100;

export interface PubSubServerOptions {
  bus: EventBus;
  checkToken: TokenCheck;
  tls: { key: string; cert: string };
  port: number;
  host: string;
  /** An empty FetchResponse goes out when a stream has been quiet this long. */
  keepaliveMs: number;
}

/** pubsub_api.proto as the salesforce-pubsub-api-client package ships it (not copied here). */
export function pubSubProtoPath(): string {
  const require = createRequire(import.meta.url);
  const main = require.resolve('salesforce-pubsub-api-client');
  return path.join(path.dirname(main), '..', 'pubsub_api.proto');
}

// Messages as @grpc/proto-loader hands them over (camelCase fields, bytes as Buffer).
interface FetchRequest { topicName?: string; replayPreset?: number | string; replayId?: Buffer; numRequested?: number; authRefresh?: string }
interface ProducerEvent { id?: string; schemaId?: string; payload?: Buffer }
interface PublishRequest { topicName?: string; events?: ProducerEvent[] }

const PRESETS = ['LATEST', 'EARLIEST', 'CUSTOM'];
function presetName(p: number | string | undefined): string {
  return typeof p === 'number' ? PRESETS[p] ?? 'LATEST' : p ?? 'LATEST';
}

class SubscribeStream {
  readonly rpcId = crypto.randomUUID();
  topic?: string;
  filter?: EventFilter;
  cursor = 0;
  pending = 0;
  blocked = false;
  scheduled = false;
  closed = false;
  lastWrite = Date.now();
  token = '';

  constructor(readonly call: grpc.ServerDuplexStream<FetchRequest, unknown>) {}
}

/** eventbus.v1.PubSub over TLS: Subscribe with flow control, GetTopic, GetSchema, Publish(Stream). */
export class PubSubServer {
  private server?: grpc.Server;
  private readonly streams = new Set<SubscribeStream>();
  private readonly publishStreams = new Set<grpc.ServerDuplexStream<PublishRequest, unknown>>();
  private keepaliveTimer?: NodeJS.Timeout;
  private unsubscribe?: () => void;
  private boundPort = 0;

  constructor(private readonly options: PubSubServerOptions) {}

  async start(): Promise<{ port: number }> {
    if (this.server) return { port: this.boundPort };
    const definition = protoLoader.loadSync(pubSubProtoPath(), {});
    const proto = grpc.loadPackageDefinition(definition) as any;
    const service = proto.eventbus.v1.PubSub.service as grpc.ServiceDefinition;
    const server = new grpc.Server();
    server.addService(service, {
      Subscribe: (call: grpc.ServerDuplexStream<FetchRequest, unknown>) => this.subscribe(call),
      GetTopic: (call: grpc.ServerUnaryCall<{ topicName?: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => this.getTopic(call, cb),
      GetSchema: (call: grpc.ServerUnaryCall<{ schemaId?: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => this.getSchema(call, cb),
      Publish: (call: grpc.ServerUnaryCall<PublishRequest, unknown>, cb: grpc.sendUnaryData<unknown>) => this.publish(call, cb),
      PublishStream: (call: grpc.ServerDuplexStream<PublishRequest, unknown>) => this.publishStream(call),
    });
    const creds = grpc.ServerCredentials.createSsl(null, [{
      private_key: Buffer.from(this.options.tls.key), cert_chain: Buffer.from(this.options.tls.cert),
    }], false);
    this.boundPort = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`${this.options.host}:${this.options.port}`, creds, (err, port) => (err ? reject(err) : resolve(port)));
    });
    this.server = server;
    this.unsubscribe = this.options.bus.onAppend((events) => this.onAppend(events));
    const tick = Math.max(10, Math.floor(this.options.keepaliveMs / 2));
    this.keepaliveTimer = setInterval(() => this.sendKeepalives(), tick);
    this.keepaliveTimer.unref();
    this.options.bus.logger.info({ port: this.boundPort }, 'Pub/Sub API listening');
    return { port: this.boundPort };
  }

  /** Ends every active Subscribe stream with UNAVAILABLE, as a server-side reset would. */
  resetStreams(): number {
    const streams = [...this.streams];
    for (const s of streams) {
      this.fail(s, pubSubStatus(grpc.status.UNAVAILABLE, PUBSUB_ERROR.serviceUnavailable,
        'The service is unavailable: the stream was reset. Retry the subscription.', s.rpcId));
    }
    this.options.bus.counters.add('pubsub.resets', streams.length);
    return streams.length;
  }

  activeStreams(): number {
    return this.streams.size;
  }

  async close(): Promise<void> {
    this.unsubscribe?.();
    if (this.keepaliveTimer) clearInterval(this.keepaliveTimer);
    // A clean shutdown ends streams with status OK (clients see 'end'); resetStreams() is the fault.
    for (const s of [...this.streams]) {
      this.drop(s);
      if (!s.closed) { s.closed = true; s.call.end(); }
    }
    for (const call of this.publishStreams) call.end();
    this.publishStreams.clear();
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => { server.forceShutdown(); resolve(); }, 1000);
      server.tryShutdown(() => { clearTimeout(force); resolve(); });
    });
  }

  // ---- auth ----

  private authenticate(metadata: grpc.Metadata, rpcId: string): AuthSession | PubSubStatus {
    const token = String(metadata.get('accesstoken')[0] ?? '');
    const instanceUrl = String(metadata.get('instanceurl')[0] ?? '');
    const tenantId = String(metadata.get('tenantid')[0] ?? '');
    const session = token ? this.options.checkToken(token) : undefined;
    const fail = (why: string) => {
      this.options.bus.counters.add('pubsub.authFailures');
      return pubSubStatus(grpc.status.UNAUTHENTICATED, PUBSUB_ERROR.auth, why, rpcId);
    };
    if (!session) return fail('The session is invalid or expired: check the accesstoken header.');
    if (!instanceUrl) return fail('Missing instanceurl header.');
    if (!tenantId || !(tenantId === session.orgId || tenantId === session.orgId.slice(0, 15))) {
      return fail(`The tenantid header (${tenantId || 'missing'}) does not match the org of the access token.`);
    }
    return session;
  }

  // ---- Subscribe ----

  private subscribe(call: grpc.ServerDuplexStream<FetchRequest, unknown>): void {
    const stream = new SubscribeStream(call);
    this.options.bus.counters.add('pubsub.subscribe');
    const auth = this.authenticate(call.metadata, stream.rpcId);
    if ('code' in auth) {
      this.fail(stream, auth);
      return;
    }
    stream.token = String(call.metadata.get('accesstoken')[0]);
    this.streams.add(stream);
    call.on('data', (req: FetchRequest) => this.onFetch(stream, req));
    call.on('end', () => { this.drop(stream); if (!stream.closed) { stream.closed = true; call.end(); } });
    call.on('cancelled', () => this.drop(stream));
    call.on('error', () => this.drop(stream));
    call.on('drain', () => { stream.blocked = false; this.pump(stream); });
  }

  private onFetch(stream: SubscribeStream, req: FetchRequest): void {
    if (stream.closed) return;
    const bus = this.options.bus;
    // Every request re-checks the session (auth_refresh carries a new token), so an expired
    // or revoked session ends the stream at the client's next FetchRequest.
    if (req.authRefresh) stream.token = req.authRefresh;
    if (!this.options.checkToken(stream.token)) {
      this.fail(stream, pubSubStatus(grpc.status.UNAUTHENTICATED, PUBSUB_ERROR.auth,
        'The session is invalid or expired: refresh the access token.', stream.rpcId));
      return;
    }
    if (!stream.topic) {
      const topic = req.topicName ?? '';
      const filter = bus.channels.filterFor(topic);
      if (!filter) {
        this.fail(stream, pubSubStatus(grpc.status.NOT_FOUND, PUBSUB_ERROR.topicNotFound,
          `Topic ${topic || '(empty)'} does not exist or you are not allowed to subscribe to it.`, stream.rpcId));
        return;
      }
      const preset = presetName(req.replayPreset);
      if (preset === 'CUSTOM') {
        const replayId = decodeReplayId(req.replayId);
        const check = replayId === undefined ? 'unknown' : bus.log.checkReplayId(replayId);
        if (check !== 'ok') {
          const code = check === 'expired' ? PUBSUB_ERROR.replayIdValidation : PUBSUB_ERROR.replayIdCorrupted;
          this.fail(stream, pubSubStatus(grpc.status.INVALID_ARGUMENT, code,
            check === 'expired'
              ? `The replay ID is outside the retention window of topic ${topic}.`
              : `The replay ID is not valid for topic ${topic}: provide an ID received from this org.`, stream.rpcId));
          return;
        }
        stream.cursor = replayId as number;
      } else if (preset === 'EARLIEST') {
        stream.cursor = bus.log.earliestCursor();
      } else {
        stream.cursor = bus.log.latestReplayId();
      }
      stream.topic = topic;
      stream.filter = filter;
    } else if (req.topicName && req.topicName !== stream.topic) {
      this.fail(stream, pubSubStatus(grpc.status.INVALID_ARGUMENT, PUBSUB_ERROR.topicChanged,
        `The topic of a subscription cannot change (was ${stream.topic}, got ${req.topicName}).`, stream.rpcId));
      return;
    }
    const requested = Math.min(Math.max(0, req.numRequested ?? 0), MAX_NUM_REQUESTED);
    stream.pending += requested;
    this.pump(stream);
  }

  private onAppend(events: StoredEvent[]): void {
    for (const stream of this.streams) {
      if (stream.pending === 0 || stream.blocked || stream.scheduled || !stream.filter) continue;
      const topic = stream.topic as string;
      if (!events.some((e) => (topic === ALL_CHANGE_EVENTS ? e.kind === 'cdc' : e.topic === topic))) continue;
      stream.scheduled = true;
      setImmediate(() => { stream.scheduled = false; this.pump(stream); });
    }
  }

  /** Sends retained events after the stream's cursor while the client has capacity. */
  private pump(stream: SubscribeStream): void {
    const bus = this.options.bus;
    while (!stream.closed && !stream.blocked && stream.pending > 0 && stream.filter) {
      const batch = bus.log.readAfter(stream.filter, stream.cursor, Math.min(stream.pending, MAX_NUM_REQUESTED));
      if (batch.length === 0) return;
      const events = [];
      for (const e of batch) {
        const schema = bus.schemas.forEntity(e.entity);
        if (!schema) {
          bus.logger.warn({ entity: e.entity, replayId: e.replayId }, 'no schema for event entity; skipped');
          continue;
        }
        events.push({
          event: { id: e.body.eventUuid ?? crypto.randomUUID(), schemaId: schema.id, payload: bus.schemas.encode(schema, e.body) },
          replayId: encodeReplayId(e.replayId),
        });
      }
      stream.cursor = batch[batch.length - 1].replayId;
      stream.pending -= events.length;
      if (events.length === 0) continue;
      bus.counters.add('pubsub.eventsDelivered', events.length);
      stream.lastWrite = Date.now();
      const ok = stream.call.write({
        events, latestReplayId: encodeReplayId(stream.cursor), rpcId: stream.rpcId, pendingNumRequested: stream.pending,
      });
      if (!ok) stream.blocked = true;
    }
  }

  private sendKeepalives(): void {
    const now = Date.now();
    for (const stream of this.streams) {
      if (!stream.topic || stream.blocked || now - stream.lastWrite < this.options.keepaliveMs) continue;
      stream.lastWrite = now;
      this.options.bus.counters.add('pubsub.keepalives');
      stream.call.write({
        latestReplayId: encodeReplayId(this.options.bus.log.latestReplayId()), rpcId: stream.rpcId,
        pendingNumRequested: stream.pending,
      });
    }
  }

  private fail(stream: SubscribeStream, status: PubSubStatus): void {
    this.drop(stream);
    if (stream.closed) return;
    stream.closed = true;
    stream.call.emit('error', status);
  }

  private drop(stream: SubscribeStream): void {
    this.streams.delete(stream);
  }

  // ---- unary RPCs ----

  private getTopic(call: grpc.ServerUnaryCall<{ topicName?: string }, unknown>, cb: grpc.sendUnaryData<unknown>): void {
    const rpcId = crypto.randomUUID();
    this.options.bus.counters.add('pubsub.getTopic');
    const auth = this.authenticate(call.metadata, rpcId);
    if ('code' in auth) return cb(auth);
    const topicName = call.request.topicName ?? '';
    const bus = this.options.bus;
    if (!bus.channels.filterFor(topicName)) {
      return cb(pubSubStatus(grpc.status.NOT_FOUND, PUBSUB_ERROR.topicNotFound, `Topic ${topicName || '(empty)'} does not exist.`, rpcId));
    }
    const entity = bus.channels.entityOf(topicName);
    const schema = entity ? bus.schemas.forEntity(entity) : undefined;
    cb(null, {
      topicName, tenantGuid: auth.orgId, canPublish: entity ? isPlatformEventName(entity) : false,
      canSubscribe: true, schemaId: schema?.id ?? '', rpcId,
    });
  }

  private getSchema(call: grpc.ServerUnaryCall<{ schemaId?: string }, unknown>, cb: grpc.sendUnaryData<unknown>): void {
    const rpcId = crypto.randomUUID();
    this.options.bus.counters.add('pubsub.getSchema');
    const auth = this.authenticate(call.metadata, rpcId);
    if ('code' in auth) return cb(auth);
    const schema = this.options.bus.schemas.get(call.request.schemaId ?? '');
    if (!schema) {
      return cb(pubSubStatus(grpc.status.NOT_FOUND, PUBSUB_ERROR.schemaNotFound, `Schema ${call.request.schemaId || '(empty)'} not found.`, rpcId));
    }
    cb(null, { schemaJson: schema.json, schemaId: schema.id, rpcId });
  }

  /** Validates and stores a batch of platform events; per-event results in input order. */
  private publishBatch(req: PublishRequest, rpcId: string): { response?: unknown; error?: PubSubStatus } {
    const bus = this.options.bus;
    const topicName = req.topicName ?? '';
    const entity = bus.channels.entityOf(topicName);
    if (!entity || !isPlatformEventName(entity)) {
      return { error: pubSubStatus(grpc.status.PERMISSION_DENIED, PUBSUB_ERROR.publishNotAllowed,
        `Publishing to ${topicName || '(empty)'} is not allowed: only platform event topics (/event/Name__e) accept events.`, rpcId) };
    }
    const schema = bus.schemas.forEntity(entity);
    if (!schema) return { error: pubSubStatus(grpc.status.NOT_FOUND, PUBSUB_ERROR.schemaNotFound, `No schema for ${topicName}.`, rpcId) };
    const accepted: { index: number; event: NewEvent }[] = [];
    const results: { replayId?: Buffer; error?: { code: number; msg: string }; correlationKey: string }[] = [];
    (req.events ?? []).forEach((e, index) => {
      const correlationKey = e.id || crypto.randomUUID();
      results.push({ correlationKey });
      try {
        if (e.schemaId !== schema.id) throw new Error(`schema id ${e.schemaId} is not the current schema ${schema.id} of ${topicName}`);
        const fields = bus.schemas.decodePlatform(schema, e.payload ?? Buffer.alloc(0));
        accepted.push({ index, event: { kind: 'platform', topic: topicName, entity, body: { fields, eventUuid: correlationKey } } });
      } catch (err) {
        results[index].error = { code: 1, msg: `Event ${correlationKey} rejected: ${(err as Error).message}` };
      }
    });
    const stored = bus.append(accepted.map((a) => a.event));
    stored.forEach((s, i) => { results[accepted[i].index].replayId = encodeReplayId(s.replayId); });
    bus.counters.add('pubsub.eventsPublished', stored.length);
    return { response: { results, schemaId: schema.id, rpcId } };
  }

  private publish(call: grpc.ServerUnaryCall<PublishRequest, unknown>, cb: grpc.sendUnaryData<unknown>): void {
    const rpcId = crypto.randomUUID();
    this.options.bus.counters.add('pubsub.publish');
    const auth = this.authenticate(call.metadata, rpcId);
    if ('code' in auth) return cb(auth);
    const { response, error } = this.publishBatch(call.request, rpcId);
    if (error) return cb(error);
    cb(null, response);
  }

  private publishStream(call: grpc.ServerDuplexStream<PublishRequest, unknown>): void {
    const rpcId = crypto.randomUUID();
    this.options.bus.counters.add('pubsub.publishStream');
    const auth = this.authenticate(call.metadata, rpcId);
    if ('code' in auth) {
      call.emit('error', auth);
      return;
    }
    this.publishStreams.add(call);
    const forget = () => this.publishStreams.delete(call);
    call.on('data', (req: PublishRequest) => {
      const { response, error } = this.publishBatch(req, rpcId);
      if (!error) return call.write(response);
      forget();
      call.emit('error', error);
    });
    call.on('end', () => { forget(); call.end(); });
    call.on('cancelled', forget);
    call.on('error', forget);
  }
}
