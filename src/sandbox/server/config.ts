import { z } from 'zod';

const port = (name: string) => z.number({ error: `${name} must be a port number` }).int().min(0, `${name} must be >= 0`).max(65535, `${name} must be <= 65535`);

export const sandboxConfigSchema = z.object({
  /** Where records, sessions, certificates, credentials and the CDC log live. */
  dataDir: z.string({ error: 'dataDir is required' }).min(1, 'dataDir must name a folder'),
  host: z.string().default('127.0.0.1'),
  /** 0 = ephemeral (tests). */
  httpPort: port('httpPort').default(0),
  httpsPort: port('httpsPort').default(0),
  pubSubPort: port('pubSubPort').default(0),
  /** API version of the CometD path and of the default REST answers. */
  apiVersion: z.string().regex(/^\d+\.\d$/, 'apiVersion must look like "60.0"').default('60.0'),
  /** Access token lifetime; an expired token answers 401 INVALID_SESSION_ID. */
  sessionTtlSeconds: z.number().int().positive('sessionTtlSeconds must be > 0').default(7200),
  /** DailyApiRequests allowance (REQUEST_LIMIT_EXCEEDED beyond). */
  dailyApiLimit: z.number().int().positive('dailyApiLimit must be > 0').default(100_000),
  /** How long change events stay replayable. */
  cdcRetentionMs: z.number().int().positive('cdcRetentionMs must be > 0').default(72 * 3600 * 1000),
  pubSubKeepaliveMs: z.number().int().positive('pubSubKeepaliveMs must be > 0').optional(),
  cometdLongPollSeconds: z.number().positive('cometdLongPollSeconds must be > 0').optional(),
  /** A JSON file of extra objects/fields merged into the built-in org model. */
  modelFile: z.string().optional(),
  /** Fixed credentials instead of generated ones (each optional). */
  credentials: z.object({
    username: z.string().min(1), password: z.string().min(1), clientId: z.string().min(1),
    clientSecret: z.string().min(1), adminToken: z.string().min(8, 'credentials.adminToken must have >= 8 chars'),
  }).partial().strict().optional(),
  logLevel: z.string().optional(),
  /** How long calls take (src/sandbox/admin/latency.ts): `none` answers at loopback speed, `real-org` as a production org. */
  latency: z.enum(['none', 'real-org'], { error: 'latency must be "none" or "real-org"' }).default('none'),
}).strict();

export type SandboxConfig = z.input<typeof sandboxConfigSchema>;
export type ResolvedSandboxConfig = z.output<typeof sandboxConfigSchema>;

/** Validates a config; the error names the bad field. */
export function resolveConfig(config: SandboxConfig): ResolvedSandboxConfig {
  const parsed = sandboxConfigSchema.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`invalid sandbox config: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}
