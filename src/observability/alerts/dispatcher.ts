import pRetry, { AbortError } from 'p-retry';
import { Counter, type Registry } from 'prom-client';
import { request } from 'undici';
import type { Logger } from '../logger.ts';
import type { AlertsConfig, KindRule, WebhookConfig } from './config.ts';
import { bodyFor, MAX_LISTED, type AlertBatch, type AlertEvent } from './format.ts';

export type { AlertEvent } from './format.ts';

export interface AlertDispatcherOptions {
  shopId: string;
  log: Logger;
  /** Where shopforce_alert_notifications_total is registered (none: not counted). */
  registry?: Registry;
  /** Shortest wait before a retry (ms; p-retry doubles it each time). Tests make it small. */
  retryMinTimeoutMs?: number;
}

export interface AlertDispatcher {
  /** Takes one alert; delivery happens in the background (never throws, never blocks the caller). */
  notify(alert: Omit<AlertEvent, 'at'> & { at?: number }): void;
  /** Sends what the rate limit holds back, waits for deliveries in flight, stops the timers. */
  close(): Promise<void>;
}

/** Alerts of one kind on the way to one webhook. */
interface Lane {
  webhook: WebhookConfig;
  kind: string;
  rule: KindRule;
  /** Alerts counted towards the threshold, oldest first (within rule.windowMs). */
  window: AlertEvent[];
  /** When the messages of the current rate-limit period went out. */
  sent: number[];
  /** Held back by the rate limit: a sample and the count, sent when the period ends. */
  held: AlertEvent[];
  heldCount: number;
  timer?: NodeJS.Timeout;
}

/** Retried: the receiver may answer later. Other 4xx answers are final (a wrong URL or token). */
const RETRIED_STATUS = (status: number) => status >= 500 || status === 408 || status === 429;

class DeliveryError extends Error {
  constructor(message: string, readonly retryAfterMs?: number) {
    super(message);
  }
}

/**
 * Delivers reconcile alerts to the configured webhooks. Per alert kind and webhook: a message goes
 * out when `threshold` alerts of the kind happened within `windowMs` (it lists them); at most
 * `maxMessages` messages per `periodMs`, and what comes over that limit is held back and sent as one
 * summary when the period ends. Each POST is retried (p-retry) on network errors, 5xx, 408 and 429.
 */
export function createAlertDispatcher(config: AlertsConfig, opts: AlertDispatcherOptions): AlertDispatcher {
  const log = opts.log;
  const notifications = opts.registry
    ? (opts.registry.getSingleMetric('shopforce_alert_notifications_total') as Counter<'webhook' | 'kind' | 'result'> | undefined)
      ?? new Counter({
        name: 'shopforce_alert_notifications_total',
        help: 'Alerts handed to webhooks, by result: sent (in a delivered message), held (by the rate limit, sent later), failed (delivery gave up).',
        labelNames: ['webhook', 'kind', 'result'], registers: [opts.registry],
      })
    : undefined;
  const lanes = new Map<string, Lane>();
  const inFlight = new Set<Promise<void>>();
  let closed = false;

  function laneFor(webhook: WebhookConfig, kind: string): Lane | undefined {
    const rule = config.kinds[kind as keyof AlertsConfig['kinds']];
    if (!rule?.enabled) return undefined;
    if (webhook.kinds && !webhook.kinds.includes(kind as never)) return undefined;
    const id = `${webhook.name}\u0000${kind}`;
    let lane = lanes.get(id);
    if (!lane) {
      lane = { webhook, kind, rule, window: [], sent: [], held: [], heldCount: 0 };
      lanes.set(id, lane);
    }
    return lane;
  }

  async function post(webhook: WebhookConfig, body: Record<string, unknown>): Promise<void> {
    const res = await request(webhook.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'shopforce-alerts', ...webhook.headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(webhook.timeoutMs),
    });
    const text = await res.body.text().catch(() => '');
    if (res.statusCode >= 200 && res.statusCode < 300) return;
    const reason = `HTTP ${res.statusCode}${text ? `: ${text.slice(0, 200)}` : ''}`;
    if (!RETRIED_STATUS(res.statusCode)) throw new AbortError(reason);
    const retryAfter = Number(res.headers['retry-after']);
    throw new DeliveryError(reason, Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter, 30) * 1000 : undefined);
  }

  function deliver(lane: Lane, batch: AlertBatch): void {
    const { webhook } = lane;
    const body = bodyFor(webhook.format, batch);
    const started = Date.now();
    const job = pRetry(() => post(webhook, body), {
      retries: webhook.retries,
      minTimeout: opts.retryMinTimeoutMs ?? 500,
      maxTimeout: 10_000,
      onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
        log.debug({ webhook: webhook.name, kind: lane.kind, attempt: attemptNumber, retriesLeft, err: error.message }, 'alert delivery attempt failed');
        // a 429 with Retry-After: wait as asked (p-retry's own backoff comes on top)
        if (error instanceof DeliveryError && error.retryAfterMs && retriesLeft > 0) await new Promise((r) => setTimeout(r, error.retryAfterMs));
      },
    }).then(() => {
      notifications?.inc({ webhook: webhook.name, kind: lane.kind, result: 'sent' }, batch.count);
      log.debug({ webhook: webhook.name, kind: lane.kind, count: batch.count, ms: Date.now() - started }, 'alert delivered');
    }, (err: unknown) => {
      notifications?.inc({ webhook: webhook.name, kind: lane.kind, result: 'failed' }, batch.count);
      // a person was not told: that is worth a warning of its own
      log.warn({ webhook: webhook.name, kind: lane.kind, count: batch.count, err: err instanceof Error ? err.message : String(err) }, `alert delivery to webhook ${webhook.name} failed`);
    });
    inFlight.add(job);
    void job.finally(() => inFlight.delete(job));
  }

  function batchOf(lane: Lane, alerts: AlertEvent[], count: number, reason: AlertBatch['reason']): AlertBatch {
    return { shopId: opts.shopId, kind: lane.kind, count, alerts: alerts.slice(0, MAX_LISTED), reason, spanMs: reason === 'threshold' ? lane.rule.windowMs : lane.rule.periodMs };
  }

  /** Sends the held-back alerts as one summary (at the end of the period, or on close). */
  function releaseHeld(lane: Lane, now: number): void {
    lane.timer = undefined;
    if (lane.heldCount === 0) return;
    const batch = batchOf(lane, lane.held, lane.heldCount, 'held-back');
    lane.held = [];
    lane.heldCount = 0;
    lane.sent.push(now);
    deliver(lane, batch);
  }

  function emit(lane: Lane, alerts: AlertEvent[], now: number): void {
    lane.sent = lane.sent.filter((t) => now - t < lane.rule.periodMs);
    if (lane.sent.length < lane.rule.maxMessages && lane.heldCount === 0) {
      lane.sent.push(now);
      deliver(lane, batchOf(lane, alerts, alerts.length, 'threshold'));
      return;
    }
    // over the limit: hold them, and send one summary when the oldest message of the period ages out
    for (const a of alerts) if (lane.held.length < MAX_LISTED) lane.held.push(a);
    lane.heldCount += alerts.length;
    notifications?.inc({ webhook: lane.webhook.name, kind: lane.kind, result: 'held' }, alerts.length);
    if (!lane.timer) {
      const wait = Math.max(0, (lane.sent[0] ?? now) + lane.rule.periodMs - now);
      lane.timer = setTimeout(() => releaseHeld(lane, Date.now()), wait);
      lane.timer.unref();
      log.info({ webhook: lane.webhook.name, kind: lane.kind, maxMessages: lane.rule.maxMessages, periodMs: lane.rule.periodMs, releaseInMs: wait }, 'alert rate limit reached: holding alerts for a summary');
    }
  }

  return {
    notify(input) {
      if (closed || config.webhooks.length === 0) return;
      const alert: AlertEvent = { ...input, at: input.at ?? Date.now() };
      const now = Date.now();
      for (const webhook of config.webhooks) {
        const lane = laneFor(webhook, alert.kind);
        if (!lane) continue;
        lane.window = lane.window.filter((a) => now - a.at < lane.rule.windowMs);
        lane.window.push(alert);
        if (lane.window.length >= lane.rule.threshold) {
          const alerts = lane.window;
          lane.window = [];
          emit(lane, alerts, now);
        }
      }
    },
    async close() {
      closed = true;
      for (const lane of lanes.values()) {
        if (lane.timer) clearTimeout(lane.timer);
        releaseHeld(lane, Date.now());
      }
      await Promise.allSettled([...inFlight]);
    },
  };
}
