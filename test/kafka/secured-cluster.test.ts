/**
 * shopforce's Kafka client configuration against a SASL_SSL listener (a throwaway broker with its own
 * CA): a record produced and consumed back with SCRAM-SHA-256, SCRAM-SHA-512 and PLAIN logins, topics
 * created through the admin client, and a wrong password or a missing CA failing with the setting named.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { logLevel } from 'kafkajs';
import { parseConfigText } from '../../src/config/load.ts';
import type { ShopforceConfig } from '../../src/config/schema.ts';
import { createKafka, KafkaAccessError, verifyKafkaAccess } from '../../src/kafka/client.ts';
import { ensureTopics } from '../../src/kafka/topics.ts';
import { startSecureBroker, type SecureBroker } from '../support/secure-broker.ts';

const scramUser = { name: 'shopforce-scram', password: 'scram-pass-1' };
const plainUser = { name: 'shopforce-plain', password: 'plain-pass-2' };
let broker: SecureBroker;

before(async () => {
  broker = await startSecureBroker({ scram: [scramUser], plain: [plainUser] });
}, { timeout: 240_000 });
after(async () => broker?.stop());

/** The configuration a user writes for the secured cluster: the password from the environment. */
function securedConfig(kafkaSecurity: string, password: string): ShopforceConfig {
  return parseConfigText(`
kafka:
  brokers: ["${broker.bootstrap}"]
  ${kafkaSecurity}
registry: { url: "http://127.0.0.1:58081" }
shop: { databaseUrl: "\${SHOP_DATABASE_URL}" }
salesforce: { loginUrl: "https://login.salesforce.com", authType: client_credentials, clientId: abc, clientSecret: "\${SF_CLIENT_SECRET}" }
`, { KAFKA_PASSWORD: password, SHOP_DATABASE_URL: 'postgres://u:p@127.0.0.1:1/shop', SF_CLIENT_SECRET: 's' });
}

const sasl = (mechanism: string, user: { name: string }) =>
  `ssl: { enabled: true, caPath: "${broker.caPath}" }\n  sasl: { mechanism: ${mechanism}, username: ${user.name}, password: "\${KAFKA_PASSWORD}" }`;

async function roundTrip(config: ShopforceConfig): Promise<string> {
  const kafka = createKafka(config.kafka, 'secured-test', { logLevel: logLevel.NOTHING });
  await verifyKafkaAccess(kafka, config.kafka);
  const topic = `secured.${randomUUID()}`;
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, [{ topic, partitions: 1 }]);
  } finally {
    await admin.disconnect();
  }
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const sent = `hello over SASL_SSL ${randomUUID()}`;
  try {
    await producer.send({ topic, acks: -1, messages: [{ key: 'k', value: sent }] });
  } finally {
    await producer.disconnect();
  }
  const consumer = kafka.consumer({ groupId: `secured-test-${randomUUID()}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    return await new Promise<string>((resolve, reject) => {
      consumer.run({ eachMessage: async ({ message }) => resolve(message.value!.toString('utf8')) }).catch(reject);
    }).then((got) => { assert.equal(got, sent); return got; });
  } finally {
    await consumer.disconnect();
  }
}

describe('a SASL_SSL listener through our client configuration', { timeout: 600_000 }, () => {
  test('SCRAM-SHA-256: topics created, a record produced and consumed back', async () => {
    assert.match(await roundTrip(securedConfig(sasl('scram-sha-256', scramUser), scramUser.password)), /^hello over SASL_SSL/);
  });

  test('SCRAM-SHA-512: the same round trip', async () => {
    assert.match(await roundTrip(securedConfig(sasl('scram-sha-512', scramUser), scramUser.password)), /^hello over SASL_SSL/);
  });

  test('PLAIN over TLS: the same round trip', async () => {
    assert.match(await roundTrip(securedConfig(sasl('plain', plainUser), plainUser.password)), /^hello over SASL_SSL/);
  });

  for (const [mechanism, user] of [['scram-sha-512', scramUser], ['plain', plainUser]] as const) {
    test(`a wrong ${mechanism} password fails at start naming kafka.sasl.password, without the password`, async () => {
      const config = securedConfig(sasl(mechanism, user), 'not-the-password');
      const kafka = createKafka(config.kafka, 'secured-test', { logLevel: logLevel.NOTHING, retry: { retries: 1 } });
      const err = await verifyKafkaAccess(kafka, config.kafka).then(() => assert.fail('a wrong password was accepted'), (e: unknown) => e);
      assert.ok(err instanceof KafkaAccessError, `a KafkaAccessError, got ${String(err)}`);
      assert.match(err.message, /refused the SASL login of user "shopforce-(scram|plain)".*check kafka\.sasl\.username and kafka\.sasl\.password/);
      assert.doesNotMatch(err.message, /not-the-password/);
    });
  }

  test('TLS without the CA that signed the broker certificate fails naming kafka.ssl.caPath', async () => {
    const config = securedConfig(`ssl: { enabled: true }\n  sasl: { mechanism: plain, username: ${plainUser.name}, password: "\${KAFKA_PASSWORD}" }`, plainUser.password);
    const kafka = createKafka(config.kafka, 'secured-test', { logLevel: logLevel.NOTHING, retry: { retries: 1 } });
    await assert.rejects(verifyKafkaAccess(kafka, config.kafka), (err: Error) => err instanceof KafkaAccessError && /check kafka\.ssl\.caPath/.test(err.message));
  });
});
