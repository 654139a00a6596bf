/**
 * The configuration of a secured Kafka cluster: TLS, SASL login, and the replication factor of each
 * class of topic shopforce creates. Part of the `kafka` section of src/config/schema.ts.
 */
import { z } from 'zod';

export const kafkaSslSchema = z.strictObject({
  enabled: z.boolean().default(false).describe('Connect to the brokers over TLS.'),
  caPath: z.string().min(1).optional().describe('PEM file of the CA that signed the brokers\' certificates; none: the system\'s trusted CAs.'),
  certPath: z.string().min(1).optional().describe('PEM client certificate, when the brokers ask for one (mutual TLS).'),
  keyPath: z.string().min(1).optional().describe('PEM private key of certPath (keep the file 0600).'),
  rejectUnauthorized: z.boolean().default(true).describe('Refuse brokers whose certificate does not verify; false only for a throwaway test cluster.'),
}).superRefine((ssl, ctx) => {
  const given = ['caPath', 'certPath', 'keyPath'] as const;
  if (!ssl.enabled) {
    for (const f of given) if (ssl[f]) ctx.addIssue({ code: 'custom', path: [f], message: 'has no effect unless kafka.ssl.enabled is true' });
  }
  if (Boolean(ssl.certPath) !== Boolean(ssl.keyPath)) ctx.addIssue({ code: 'custom', path: [ssl.certPath ? 'keyPath' : 'certPath'], message: 'certPath and keyPath go together' });
});

export const KAFKA_SASL_MECHANISMS = ['scram-sha-256', 'scram-sha-512', 'plain'] as const;

export const kafkaSaslSchema = z.strictObject({
  mechanism: z.enum(KAFKA_SASL_MECHANISMS).describe('SASL mechanism the listener offers: scram-sha-256, scram-sha-512, or plain (plain only over TLS).'),
  username: z.string().min(1).describe('Kafka user.'),
  password: z.string().min(1).describe('Password of the Kafka user (secret: give it as ${VAR}).'),
});

const factor = (what: string) => z.number().int().min(1).max(32).default(1).describe(`Replication factor of ${what}.`);

/** The classes of topic shopforce creates; each gets its own replication factor. */
export const replicationSchema = z.strictObject({
  source: factor('the raw change topics shopforce creates (shop.<schema>.<table> before Debezium does, sf.cdc.<Object>, sf.image.<Object>)'),
  changes: factor('the routed and canonical change topics (sync.in.<entity>, sync.<entity>)'),
  commands: factor('the write command topics (sync.out.salesforce, sync.out.shop)'),
  state: factor('state changelogs and checkpoint topics (<group>.state-changelog, backfill, Salesforce source and drift checkpoints)'),
  dlq: factor('the dead-letter topic'),
  audit: factor('the audit topic (sync.audit)'),
});

export type TopicClass = keyof z.infer<typeof replicationSchema>;
export type KafkaSslConfig = z.infer<typeof kafkaSslSchema>;
export type KafkaSaslConfig = z.infer<typeof kafkaSaslSchema>;
