/**
 * The one place a Kafka client is built from the configuration: brokers, client id, TLS and SASL
 * (kafka.ssl, kafka.sasl). Every command and stage that talks to Kafka goes through here, so a secured
 * cluster needs nothing more than the configuration. A refused login or an untrusted certificate is
 * reported as an error that names the setting to fix.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Kafka, type KafkaConfig, type SASLOptions } from 'kafkajs';
import type { ShopforceConfig } from '../config/schema.ts';

export type KafkaSection = Pick<ShopforceConfig['kafka'], 'brokers' | 'clientId' | 'ssl' | 'sasl'>;

/** kafkajs options for the configured cluster; `extra` adds client tuning (logLevel, logCreator, retry...). */
export function kafkaClientConfig(section: KafkaSection, clientId: string, extra: Omit<KafkaConfig, 'brokers' | 'clientId' | 'ssl' | 'sasl'> = {}): KafkaConfig {
  return { ...extra, brokers: section.brokers, clientId, ssl: tlsOptions(section.ssl), sasl: saslOptions(section.sasl) };
}

/** A kafkajs client for the configured cluster (see kafkaClientConfig). */
export function createKafka(section: KafkaSection, clientId: string, extra: Omit<KafkaConfig, 'brokers' | 'clientId' | 'ssl' | 'sasl'> = {}): Kafka {
  return new Kafka(kafkaClientConfig(section, clientId, extra));
}

function tlsOptions(ssl: KafkaSection['ssl']): ConnectionOptions | undefined {
  if (!ssl.enabled) return undefined;
  const options: ConnectionOptions = { rejectUnauthorized: ssl.rejectUnauthorized };
  if (ssl.caPath) options.ca = [pemFile(ssl.caPath, 'kafka.ssl.caPath')];
  if (ssl.certPath) options.cert = pemFile(ssl.certPath, 'kafka.ssl.certPath');
  if (ssl.keyPath) options.key = pemFile(ssl.keyPath, 'kafka.ssl.keyPath');
  return options;
}

function saslOptions(sasl: KafkaSection['sasl']): SASLOptions | undefined {
  if (!sasl) return undefined;
  return { mechanism: sasl.mechanism, username: sasl.username, password: sasl.password } as SASLOptions;
}

function pemFile(path: string, setting: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new KafkaAccessError(`cannot read ${setting} (${path}): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
}

/** Kafka refused us (login, certificate): the message names the configuration setting to fix. */
export class KafkaAccessError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'KafkaAccessError';
  }
}

const TLS_FAILURE = /certificate|self[- ]signed|CERT_|SSL|TLS|EPROTO|wrong version number/i;

/**
 * The error a user should read for a failed connection: a refused SASL login names kafka.sasl.username
 * and kafka.sasl.password, an untrusted broker certificate names kafka.ssl.caPath, a TLS handshake
 * with a plain listener names kafka.ssl.enabled. Any other error is returned as it is.
 */
export function explainKafkaError(err: unknown, section: KafkaSection): unknown {
  if (!(err instanceof Error) || err instanceof KafkaAccessError) return err;
  const chain = errorChain(err);
  const sasl = chain.find((e) => e.name === 'KafkaJSSASLAuthenticationError');
  if (sasl) {
    const who = section.sasl ? `user "${section.sasl.username}" (${section.sasl.mechanism})` : 'a client without kafka.sasl';
    return new KafkaAccessError(`Kafka refused the SASL login of ${who} at ${section.brokers.join(',')}: check kafka.sasl.username and kafka.sasl.password (and kafka.sasl.mechanism). Broker said: ${sasl.message}`, { cause: err });
  }
  const tls = chain.find((e) => TLS_FAILURE.test(`${(e as NodeJS.ErrnoException).code ?? ''} ${e.message}`));
  if (tls) {
    const fix = section.ssl.enabled
      ? 'check kafka.ssl.caPath (the CA that signed the brokers\' certificates) and that the broker address matches its certificate'
      : 'the listener may expect TLS: check kafka.ssl.enabled';
    return new KafkaAccessError(`TLS to Kafka at ${section.brokers.join(',')} failed: ${fix}. Cause: ${tls.message}`, { cause: err });
  }
  return err;
}

function errorChain(err: Error): Error[] {
  const out: Error[] = [];
  for (let e: unknown = err; e instanceof Error && !out.includes(e); e = e.cause ?? (e as { originalError?: unknown }).originalError) out.push(e);
  return out;
}

/**
 * Connects an admin client and reads the cluster once: the check `run` and the other commands make
 * before anything else, so a wrong password or CA fails at start with the setting named.
 */
export async function verifyKafkaAccess(kafka: Kafka, section: KafkaSection): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.describeCluster();
  } catch (err) {
    throw explainKafkaError(err, section);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
