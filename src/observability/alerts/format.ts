import type { WebhookConfig } from './config.ts';

/** One alert as the reconciler raised it. Key, message and fields are there when the caller passes them. */
export interface AlertEvent {
  entity: string;
  kind: string;
  key?: string;
  message?: string;
  fields?: string[];
  /** When it was raised (ms since the epoch). */
  at: number;
}

/** What one webhook message reports: alerts of one kind, all or a sample of them. */
export interface AlertBatch {
  shopId: string;
  kind: string;
  /** How many alerts the message stands for (may be more than `alerts` holds). */
  count: number;
  /** The first alerts of the batch, at most MAX_LISTED. */
  alerts: AlertEvent[];
  /** Why now: the threshold was reached, or a rate-limit period ended with alerts held back. */
  reason: 'threshold' | 'held-back';
  /** The window the threshold counted in, or the rate-limit period that held them (ms). */
  spanMs: number;
}

/** Alerts listed one by one in a message; the rest are counted. */
export const MAX_LISTED = 20;

function duration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${Math.round(ms / 1000)} s`;
}

/** "shopforce shop-1: 3 conflict alerts (customer, order) in the last 5 min". */
export function summaryLine(b: AlertBatch): string {
  const entities = [...new Set(b.alerts.map((a) => a.entity))].join(', ');
  const what = `${b.count} ${b.kind} alert${b.count === 1 ? '' : 's'}${entities ? ` (${entities})` : ''}`;
  return b.reason === 'held-back'
    ? `shopforce ${b.shopId}: ${what} held back by the rate limit in the last ${duration(b.spanMs)}`
    : `shopforce ${b.shopId}: ${what}${b.count > 1 ? ` in the last ${duration(b.spanMs)}` : ''}`;
}

/** The generic JSON document. */
export function jsonBody(b: AlertBatch): Record<string, unknown> {
  return {
    source: 'shopforce',
    shopId: b.shopId,
    kind: b.kind,
    count: b.count,
    reason: b.reason,
    spanMs: b.spanMs,
    text: summaryLine(b),
    alerts: b.alerts.map((a) => ({ entity: a.entity, kind: a.kind, key: a.key ?? null, message: a.message ?? null, fields: a.fields ?? [], at: new Date(a.at).toISOString() })),
    omitted: b.count - b.alerts.length,
  };
}

/** Slack's mrkdwn treats &, < and > as markup. */
const escapeSlack = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A Slack incoming-webhook message: `text` (notifications, clients without blocks) and blocks. */
export function slackBody(b: AlertBatch): Record<string, unknown> {
  const lines = b.alerts.map((a) => `• *${escapeSlack(a.entity)}*${a.key ? ` \`${escapeSlack(a.key)}\`` : ''} ${escapeSlack(a.message ?? a.kind)}`);
  const omitted = b.count - b.alerts.length;
  return {
    text: summaryLine(b),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${escapeSlack(summaryLine(b))}*` } },
      ...(lines.length ? [{ type: 'section', text: { type: 'mrkdwn', text: lines.join('\n').slice(0, 2900) } }] : []),
      { type: 'context', elements: [{ type: 'mrkdwn', text: `kind \`${escapeSlack(b.kind)}\`${omitted > 0 ? ` · ${omitted} more not listed` : ''} · ${new Date(Math.max(...b.alerts.map((a) => a.at), 0)).toISOString()}` }] },
    ],
  };
}

export function bodyFor(format: WebhookConfig['format'], b: AlertBatch): Record<string, unknown> {
  return format === 'slack' ? slackBody(b) : jsonBody(b);
}
