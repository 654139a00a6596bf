import type { ChangeEvent, SourceMode } from './types.ts';

/** Where a new subscription starts. */
export type StartAt =
  | { preset: 'LATEST' }
  | { preset: 'EARLIEST' }
  | { preset: 'CUSTOM'; replayId: string };

/**
 * Why a subscription stopped delivering. 'invalid-replay': the server refused the replay id
 * (expired or unknown); 'stream': the stream failed or ended (reset, auth, network); 'parse': one
 * event could not be decoded (the stream goes on, but that event's content is lost).
 */
export interface SubscriptionFailure {
  kind: 'invalid-replay' | 'stream' | 'parse';
  error: Error;
}

export interface SubscriptionHandlers {
  onEvent(event: ChangeEvent): void;
  /** Any sign of life: a keepalive, a long-poll reply. */
  onActivity(): void;
  onFailure(failure: SubscriptionFailure): void;
}

export interface Subscription {
  /** Flow control: asks the server for `n` more events (Pub/Sub); a no-op for CometD. */
  request(n: number): void;
  close(): void;
}

export interface Subscriber {
  readonly mode: SourceMode;
  subscribe(channel: string, object: string, startAt: StartAt, initialRequest: number, handlers: SubscriptionHandlers): Promise<Subscription>;
  /** Releases shared resources (the gRPC channel) once every subscription is closed. */
  close(): void;
}
