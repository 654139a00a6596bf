/**
 * A throwaway single-node Kafka broker whose client listener is SASL_SSL, for the security tests: a
 * fresh CA and broker certificate (openssl), SCRAM users written at format time (KRaft `--add-scram`),
 * PLAIN users in the listener's JAAS config. Clients reach only the SASL_SSL listener; the broker talks
 * to itself over a local PLAINTEXT one. Same jars as the local stack's broker.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStackContext } from '../../src/stack/context.ts';
import { kafkaLibs } from '../../src/stack/components/kafka.ts';
import { LOG4J2_STDOUT, requireJava17 } from '../../src/stack/java.ts';
import { portOpen, startDaemon, stopDaemon, waitUntil } from '../../src/stack/process.ts';

export interface SecureBrokerUser { name: string; password: string }

export interface SecureBroker {
  /** host:port of the SASL_SSL listener. */
  bootstrap: string;
  /** PEM of the CA that signed the broker's certificate. */
  caPath: string;
  stop(): Promise<void>;
}

const freePort = () => new Promise<number>((resolve, reject) => {
  const server = net.createServer().listen(0, '127.0.0.1', () => {
    const { port } = server.address() as net.AddressInfo;
    server.close(() => resolve(port));
  }).on('error', reject);
});

/** Starts the broker with SCRAM-SHA-256/512 credentials for `scram` users and PLAIN ones for `plain` users. */
export async function startSecureBroker(users: { scram: SecureBrokerUser[]; plain: SecureBrokerUser[] }): Promise<SecureBroker> {
  const java = requireJava17();
  const libs = await kafkaLibs(createStackContext({ quiet: true }), () => undefined);
  const dir = mkdtempSync(join(tmpdir(), 'shopforce-secure-kafka-'));
  const [saslPort, internalPort, controllerPort] = [await freePort(), await freePort(), await freePort()];
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('ca.key'), '-out', file('ca.pem'), '-days', '1', '-subj', '/CN=shopforce test CA');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('broker.key'), '-out', file('broker.csr'), '-subj', '/CN=localhost');
  writeFileSync(file('san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl('x509', '-req', '-in', file('broker.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-out', file('broker.pem'), '-days', '1', '-extfile', file('san.ext'));
  const storePassword = 'broker-store-secret';
  openssl('pkcs12', '-export', '-in', file('broker.pem'), '-inkey', file('broker.key'), '-out', file('broker.p12'), '-passout', `pass:${storePassword}`);

  const plainUsers = users.plain.map((u) => `user_${u.name}="${u.password}"`).join(' ');
  writeFileSync(file('server.properties'), [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=INTERNAL://127.0.0.1:${internalPort},SASL_SSL://127.0.0.1:${saslPort},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=INTERNAL://127.0.0.1:${internalPort},SASL_SSL://127.0.0.1:${saslPort}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=INTERNAL',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,INTERNAL:PLAINTEXT,SASL_SSL:SASL_SSL',
    'sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512,PLAIN',
    `listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required ${plainUsers};`,
    'listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
    'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
    'ssl.keystore.type=PKCS12',
    `ssl.keystore.location=${file('broker.p12')}`,
    `ssl.keystore.password=${storePassword}`,
    'ssl.client.auth=none',
    `log.dirs=${file('data')}`,
    'num.partitions=1',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=false',
    '',
  ].join('\n'));
  writeFileSync(file('log4j2.properties'), LOG4J2_STDOUT);
  const jvm = ['-Xms128m', '-Xmx384m', `-Dlog4j2.configurationFile=${file('log4j2.properties')}`, '-cp', `${libs}/*`];
  const clusterId = execFileSync(java, [...jvm, 'kafka.tools.StorageTool', 'random-uuid'], { encoding: 'utf8' }).trim().split('\n').pop()!;
  const scram = users.scram.flatMap((u) => ['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((m) => ['--add-scram', `${m}=[name=${u.name},password=${u.password}]`]));
  execFileSync(java, [...jvm, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', file('server.properties'), ...scram], { stdio: 'pipe' });
  const logFile = file('kafka.log');
  const pidFile = file('kafka.pid');
  const pid = startDaemon({ command: java, args: [...jvm, 'kafka.Kafka', file('server.properties')], logFile, pidFile });
  const stop = async () => {
    await stopDaemon(pidFile, 20_000);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // the SASL_SSL port opens once the broker is up; the tests' clients then log in through it
    await waitUntil('secure Kafka broker', () => portOpen(saslPort), { timeoutMs: 120_000, logFile, pid });
  } catch (err) {
    await stop();
    throw err;
  }
  return { bootstrap: `127.0.0.1:${saslPort}`, caPath: file('ca.pem'), stop };
}
