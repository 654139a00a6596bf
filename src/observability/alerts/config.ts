/**
 * Where reconcile alerts go besides the log and shopforce_reconcile_alerts_total: webhooks (generic
 * JSON, or Slack-compatible incoming webhooks), with a threshold and a rate limit per alert kind.
 * Referenced from src/config/schema.ts as `observability.alerts`; docs/configuration.md lists it.
 */
import { z } from 'zod';
import type { Alert } from '../../reconcile/types.ts';

/** The kinds of alert the reconciler raises (src/reconcile/types.ts Alert['kind']), and a stage paused by an error of its environment (src/kafka/stage-pause.ts). */
export const ALERT_KINDS = ['conflict', 'unmastered-create', 'negative-stock', 'stage-paused'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];
// a kind added to the reconciler without a rule here fails the type check rather than going unrouted
const everyKindListed: Record<Alert['kind'], true> = { conflict: true, 'unmastered-create': true, 'negative-stock': true, 'stage-paused': true } satisfies Record<AlertKind, true>;
void everyKindListed;

const webhookUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });

export const webhookSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, { error: 'letters, digits, ., _ and - only' }).describe('Name of the webhook, in logs and metrics.'),
  url: webhookUrl.describe('Where alerts are POSTed (secret: give it as ${VAR}; a Slack incoming-webhook URL is a credential).'),
  format: z.enum(['json', 'slack']).default('json')
    .describe('json: a JSON document with the alerts; slack: a Slack-compatible message (text + blocks), also understood by Mattermost and Rocket.Chat.'),
  kinds: z.array(z.enum(ALERT_KINDS)).min(1).optional().describe('Alert kinds sent to this webhook; omitted: every kind.'),
  headers: z.record(z.string().regex(/^[A-Za-z0-9-]+$/, { error: 'must be an HTTP header name' }), z.string()).default({})
    .describe('Extra request headers, e.g. Authorization (values are secrets: give them as ${VAR}).'),
  timeoutMs: z.number().int().min(100).max(60_000).default(5_000).describe('One attempt gives up after this long.'),
  retries: z.number().int().min(0).max(10).default(3).describe('Retries of a failed delivery (network error, 5xx, 408, 429), with exponential backoff.'),
});
export type WebhookConfig = z.infer<typeof webhookSchema>;

export const kindRuleSchema = z.strictObject({
  enabled: z.boolean().default(true).describe('Deliver alerts of this kind at all.'),
  threshold: z.number().int().min(1).max(100_000).default(1)
    .describe('A message goes out once this many alerts of the kind happened within windowMs (1: every alert); it carries them all.'),
  windowMs: z.number().int().min(1_000).max(86_400_000).default(300_000).describe('The sliding window the threshold counts in (ms).'),
  maxMessages: z.number().int().min(1).max(10_000).default(10)
    .describe('Rate limit: messages at most per periodMs for this kind on one webhook; alerts over the limit are held and sent as one summary when the period ends.'),
  periodMs: z.number().int().min(1_000).max(86_400_000).default(3_600_000).describe('The rate limit period (ms).'),
});
export type KindRule = z.infer<typeof kindRuleSchema>;

export const alertsSchema = z.strictObject({
  webhooks: z.array(webhookSchema).default([]).describe('Webhooks that receive alerts; none: alerts are only logged and counted.'),
  kinds: z.strictObject(Object.fromEntries(ALERT_KINDS.map((k) => [k, kindRuleSchema.prefault({}).describe(`Rule for ${k} alerts.`)])) as Record<AlertKind, z.ZodPrefault<typeof kindRuleSchema>>)
    .prefault({}).describe('Threshold and rate limit of each alert kind.'),
}).superRefine((cfg, ctx) => {
  const seen = new Map<string, number>();
  cfg.webhooks.forEach((w, i) => {
    if (seen.has(w.name)) ctx.addIssue({ code: 'custom', path: ['webhooks', i, 'name'], message: `"${w.name}" is already the name of webhooks.${seen.get(w.name)}` });
    else seen.set(w.name, i);
  });
});
export type AlertsConfig = z.infer<typeof alertsSchema>;
