import type http from 'node:http';
import type https from 'node:https';
import { createRequire } from 'node:module';
import type { TokenCheck } from '../auth/session.ts';
import { cometdMessage } from './cometd-message.ts';
import type { EventFilter } from './event-log.ts';
import type { EventBus } from './event-bus.ts';
import type { StoredEvent } from './stored-event.ts';

// faye ships no types: the few parts of its server side used here.
interface BayeuxMessage {
  channel: string;
  clientId?: string;
  subscription?: string | string[];
  successful?: boolean;
  error?: string;
  advice?: Record<string, unknown>;
  ext?: Record<string, any>;
  data?: unknown;
}
type Next = (message: BayeuxMessage) => void;
interface FayeExtension {
  incoming?(message: BayeuxMessage, request: http.IncomingMessage | null, next: Next): void;
  outgoing?(message: BayeuxMessage, request: http.IncomingMessage | null, next: Next): void;
}
interface MemoryEngine {
  _messages: Map<string, unknown[]>;
  emptyQueue(clientId: string): void;
  clientExists(clientId: string, cb: (exists: boolean) => void): void;
  destroyClient(clientId: string): void;
}
interface FayeAdapter {
  addExtension(ext: FayeExtension): void;
  check(request: http.IncomingMessage): boolean;
  handle(request: http.IncomingMessage, response: http.ServerResponse): void;
  on(event: 'handshake' | 'disconnect', listener: (clientId: string) => void): void;
  close(): void;
  _server: { _engine: { _engine: MemoryEngine } };
}
const faye = createRequire(import.meta.url)('faye') as {
  NodeAdapter: new (options: { mount: string; timeout: number }) => FayeAdapter;
};

export interface CometdServerOptions {
  bus: EventBus;
  checkToken: TokenCheck;
  apiVersion: string;
  /** Seconds a /meta/connect long poll is held (Salesforce: 110). */
  longPollSeconds: number;
  /** Delay before the first delivery to a new subscription, so its subscribe reply lands first. */
  firstDeliveryDelayMs: number;
}

interface Subscription {
  channel: string;
  filter: EventFilter;
  cursor: number;
  ready: boolean;
  adapter: FayeAdapter;
}

const AUTH_INVALID = '401::Authentication invalid';
const UNKNOWN_CLIENT = '403::Unknown client';
const MAX_DELIVERY_BATCH = 1000;

function invalidReplayId(replay: unknown): string {
  return `400::The replayId {${String(replay)}} you provided was invalid.  Please provide a valid ID, -2 to replay all events, or -1 to replay only new events.`;
}

function bearerToken(request: http.IncomingMessage): string | undefined {
  const header = request.headers.authorization ?? '';
  const match = /^(?:OAuth|Bearer)\s+(\S+)$/i.exec(header);
  return match?.[1];
}

/** The Streaming API: faye's Bayeux server plus Salesforce's auth, replay and event shapes. */
export class CometdServer {
  private readonly adapters: FayeAdapter[] = [];
  /** clientId → channel → subscription. */
  private readonly clients = new Map<string, Map<string, Subscription>>();
  /** Parsed replay positions of subscribe requests, waiting for faye's successful reply. */
  private readonly pendingSubs = new Map<string, Omit<Subscription, 'ready' | 'adapter'>>();
  private readonly known = new Map<FayeAdapter, Set<string>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly unsubscribe: () => void;

  constructor(private readonly options: CometdServerOptions) {
    this.unsubscribe = options.bus.onAppend((events) => this.onAppend(events));
  }

  /** Serves Bayeux at `path` on an existing HTTP(S) server (long polling only, like Salesforce). */
  attach(server: http.Server | https.Server, path = `/cometd/${this.options.apiVersion}`): void {
    const adapter = new faye.NodeAdapter({ mount: path, timeout: this.options.longPollSeconds });
    adapter.addExtension(this.extension(adapter));
    const clientIds = new Set<string>();
    this.known.set(adapter, clientIds);
    adapter.on('handshake', (id) => { clientIds.add(id); this.options.bus.counters.add('cometd.handshakes'); });
    adapter.on('disconnect', (id) => { clientIds.delete(id); this.clients.delete(id); });
    this.adapters.push(adapter);
    const others = server.listeners('request') as ((...args: unknown[]) => void)[];
    server.removeAllListeners('request');
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      if (adapter.check(req)) return adapter.handle(req, res);
      for (const listener of others) listener.call(server, req, res);
    });
  }

  /** Forgets every connected client: their next request gets 403::Unknown client. */
  dropClients(): number {
    let dropped = 0;
    for (const [adapter, ids] of this.known) {
      const engine = adapter._server._engine._engine;
      for (const id of [...ids]) {
        engine.destroyClient(id);
        dropped += 1;
      }
    }
    this.options.bus.counters.add('cometd.droppedClients', dropped);
    return dropped;
  }

  close(): void {
    this.unsubscribe();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const adapter of this.adapters) adapter.close();
    this.clients.clear();
  }

  private extension(adapter: FayeAdapter): FayeExtension {
    return {
      incoming: (message, request, next) => {
        if (request) {
          const token = bearerToken(request);
          if (!token || !this.options.checkToken(token)) {
            this.options.bus.counters.add('cometd.authFailures');
            message.error = AUTH_INVALID;
            return next(message);
          }
        }
        if (message.channel === '/meta/subscribe') this.prepareSubscribe(message);
        else if (message.channel === '/meta/unsubscribe') this.removeSubscriptions(message);
        else if (!message.channel.startsWith('/meta/')) message.error = `403:${message.channel}:Publishing to this channel is not allowed`;
        next(message);
      },
      outgoing: (message, _request, next) => {
        if (message.channel === '/meta/subscribe' && !message.successful) {
          for (const ch of ([] as string[]).concat(message.subscription ?? [])) this.pendingSubs.delete(`${message.clientId} ${ch}`);
        }
        if (message.error) this.shapeError(message);
        else if (message.channel === '/meta/handshake' && message.successful) {
          message.ext = { ...message.ext, replay: true, 'payload.format': true };
        } else if (message.channel === '/meta/subscribe' && message.successful) {
          this.activateSubscriptions(adapter, message);
        }
        next(message);
      },
    };
  }

  private shapeError(message: BayeuxMessage): void {
    const error = message.error as string;
    if (/^401:[^:]*:Unknown client$/.test(error)) {
      message.error = UNKNOWN_CLIENT;
      message.advice = { reconnect: 'handshake', interval: 0 };
    } else if (error === AUTH_INVALID) {
      message.advice = { reconnect: 'none', interval: 0 };
    }
  }

  private prepareSubscribe(message: BayeuxMessage): void {
    const bus = this.options.bus;
    const channels = ([] as string[]).concat(message.subscription ?? []);
    for (const channel of channels) {
      const filter = bus.channels.filterFor(channel);
      if (!filter) {
        message.error = `400::The channel you requested to subscribe to does not exist {${channel}}`;
        return;
      }
      const replay = message.ext?.replay?.[channel] ?? -1;
      let cursor: number;
      if (replay === -1 || replay === '-1') cursor = bus.log.latestReplayId();
      else if (replay === -2 || replay === '-2') cursor = bus.log.earliestCursor();
      else {
        const id = Number(replay);
        if (!Number.isSafeInteger(id) || bus.log.checkReplayId(id) !== 'ok') {
          message.error = invalidReplayId(replay);
          return;
        }
        cursor = id;
      }
      this.pendingSubs.set(`${message.clientId} ${channel}`, { channel, filter, cursor });
    }
  }

  private activateSubscriptions(adapter: FayeAdapter, reply: BayeuxMessage): void {
    const clientId = reply.clientId as string;
    for (const channel of ([] as string[]).concat(reply.subscription ?? [])) {
      const key = `${clientId} ${channel}`;
      const pending = this.pendingSubs.get(key);
      if (!pending) continue;
      this.pendingSubs.delete(key);
      let subs = this.clients.get(clientId);
      if (!subs) this.clients.set(clientId, (subs = new Map()));
      const sub: Subscription = { ...pending, ready: false, adapter };
      subs.set(channel, sub);
      this.options.bus.counters.add('cometd.subscribes');
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        sub.ready = true;
        this.deliver(clientId, sub);
      }, this.options.firstDeliveryDelayMs);
      this.timers.add(timer);
    }
  }

  private removeSubscriptions(message: BayeuxMessage): void {
    const subs = this.clients.get(message.clientId ?? '');
    for (const channel of ([] as string[]).concat(message.subscription ?? [])) subs?.delete(channel);
  }

  private onAppend(events: StoredEvent[]): void {
    for (const [clientId, subs] of this.clients) {
      for (const sub of subs.values()) {
        if (!sub.ready) continue;
        if (events.some((e) => ('topic' in sub.filter ? e.topic === sub.filter.topic : e.kind === sub.filter.kind))) {
          this.deliver(clientId, sub);
        }
      }
    }
  }

  /** Queues every retained event after the subscription's cursor for the client's next poll. */
  private deliver(clientId: string, sub: Subscription): void {
    const bus = this.options.bus;
    const engine = sub.adapter._server._engine._engine;
    if (this.clients.get(clientId)?.get(sub.channel) !== sub) return;
    for (;;) {
      const batch = bus.log.readAfter(sub.filter, sub.cursor, MAX_DELIVERY_BATCH);
      if (batch.length === 0) break;
      sub.cursor = batch[batch.length - 1].replayId;
      const queue = engine._messages.get(clientId) ?? [];
      for (const event of batch) {
        const schema = bus.schemas.forEntity(event.entity);
        if (schema) queue.push(cometdMessage(sub.channel, schema, event));
      }
      engine._messages.set(clientId, queue);
      bus.counters.add('cometd.eventsDelivered', batch.length);
      if (batch.length < MAX_DELIVERY_BATCH) break;
    }
    engine.emptyQueue(clientId);
  }
}
