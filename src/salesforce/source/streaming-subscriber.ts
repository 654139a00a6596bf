import type { Connection } from 'jsforce';
import { StreamingExtension } from 'jsforce/api/streaming';
import type { Logger } from '../../observability/logger.ts';
import { fromCometd } from './decode-event.ts';
import type { ObjectFields } from './field-types.ts';
import { SessionCheck } from './session-check.ts';
import type { StartAt, Subscriber, SubscriptionFailure, SubscriptionHandlers, Subscription } from './subscriber.ts';

/** The parts of faye's Client used here (its typings leave out disable and disconnect). */
interface FayeClient {
  disable(feature: string): void;
  disconnect(): unknown;
  subscribe(channel: string, listener: (message: any) => void): { then(ok: () => void, ko: (err: unknown) => void): unknown; cancel(): void };
}

interface FayeMessage { channel: string; successful?: boolean; error?: string; advice?: { reconnect?: string }; data?: any; subscription?: string }

/**
 * Disconnects a faye client for good. faye retries a failed /meta/disconnect (and handshakes)
 * every few seconds forever when the server is gone, which keeps the process alive: after a
 * short grace for the polite disconnect, its pending requests and retries are dropped.
 */
function shutDown(client: FayeClient): void {
  try { client.disconnect(); } catch { /* not connected */ }
  const internals = client as unknown as {
    _advice?: Record<string, unknown>;
    _dispatcher?: { _envelopes?: Map<string, { timer?: NodeJS.Timeout | null; request?: { then(cb: (r: { abort?: () => void } | null) => void): void } | null }>; close?: () => void };
  };
  internals._advice = { ...internals._advice, reconnect: 'none' };
  const drop = () => {
    const d = internals._dispatcher;
    for (const env of d?._envelopes?.values() ?? []) {
      if (env.timer) clearTimeout(env.timer);
      env.timer = null;
      env.request?.then((r) => r?.abort?.());
    }
    d?._envelopes?.clear();
    d?.close?.();
  };
  setTimeout(drop, 300).unref();
}

/** -1 = new events only, -2 = every retained event, else the replay id to resume after. */
function replayFrom(startAt: StartAt): number {
  if (startAt.preset === 'CUSTOM') return Number(startAt.replayId);
  return startAt.preset === 'EARLIEST' ? -2 : -1;
}

/**
 * Subscriptions through the Streaming API (CometD, jsforce's faye client with its Replay
 * extension): one faye client per channel. Faye itself re-handshakes and resubscribes after
 * "403::Unknown client", and the Replay extension then resumes after the last event received.
 */
export function createStreamingSubscriber(conn: Connection, apiVersion: string, log: Logger, fieldsOf: (object: string) => ObjectFields | undefined, onRehandshake: (channel: string) => void): Subscriber {
  const session = new SessionCheck(conn, apiVersion, log);
  return {
    mode: 'streaming',
    async subscribe(channel, object, startAt, _initialRequest, handlers: SubscriptionHandlers): Promise<Subscription> {
      await session.beforeSubscribe();
      let dead = false;
      // a handshake or connect answered before the subscribe is no sign the server has the
      // subscription: an event published then is not delivered (LATEST starts at the subscribe)
      let subscribed = false;
      // faye leaves the subscribe unanswered when the server refuses the handshake with "reconnect none":
      // such a refusal ends the wait for the acknowledgement, and the subscribe reports it once
      let refuseSubscribe: ((err: Error) => void) | undefined;
      const fail = (f: SubscriptionFailure) => {
        if (dead) return;
        if (f.kind !== 'parse' && !subscribed && refuseSubscribe) return refuseSubscribe(f.error);
        if (f.kind !== 'parse') dead = true;
        handlers.onFailure(f);
      };
      const watcher = {
        incoming(message: FayeMessage, callback: (m: FayeMessage) => void) {
          if (message.channel === '/meta/connect' || message.channel === '/meta/handshake') {
            if (message.successful && subscribed) handlers.onActivity();
            if (message.error?.startsWith('403::')) onRehandshake(channel);
            if (message.error?.startsWith('401::')) session.markSuspect();
            if (message.successful === false && message.advice?.reconnect === 'none') {
              fail({ kind: 'stream', error: new Error(`CometD ${message.channel} on ${channel} refused: ${message.error ?? 'no reason'} (reconnect none)`) });
            }
          }
          callback(message);
        },
      };
      const client = conn.streaming.createClient([new StreamingExtension.Replay(channel, replayFrom(startAt)), watcher]) as unknown as FayeClient;
      client.disable('websocket');
      const subscription = client.subscribe(channel, (message: any) => {
        if (dead) return;
        try {
          handlers.onEvent(fromCometd(channel, message, fieldsOf(object)));
        } catch (err) {
          fail({ kind: 'parse', error: new Error(`CometD message on ${channel} could not be decoded: ${(err as Error).message}`, { cause: err }) });
        }
      });
      try {
        await new Promise<void>((resolve, reject) => {
          refuseSubscribe = reject;
          subscription.then(() => resolve(), (err: unknown) => reject(err));
        });
        // the server acknowledged the subscribe: it is registered, the channel is live
        subscribed = true;
        handlers.onActivity();
      } catch (err) {
        const text = (err as { message?: string })?.message ?? String(err);
        shutDown(client);
        dead = true;
        const failure: SubscriptionFailure = {
          kind: /^400::.*replay/i.test(text) ? 'invalid-replay' : 'stream',
          error: new Error(`CometD subscribe to ${channel} failed: ${text}`),
        };
        log.debug({ channel, err: text }, 'CometD subscribe refused');
        queueMicrotask(() => handlers.onFailure(failure));
      }
      return {
        request() { /* CometD pushes; no flow control */ },
        close() {
          dead = true;
          try { subscription.cancel(); } catch { /* already gone */ }
          shutDown(client);
        },
      };
    },
    close() { /* each subscription owns its faye client */ },
  };
}
