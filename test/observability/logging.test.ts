import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { logLevel } from 'kafkajs';
import pino from 'pino';
import { isKafkajsChatter, kafkajsLogCreator } from '../../src/observability/kafkajs-logger.ts';
import { applyConfiguredLogLevel, logFormat } from '../../src/observability/logger.ts';
import { REPO_DIR } from '../../src/stack/context.ts';

/** Runs a few lines in a fresh node process (the logger picks its format when it is created). */
function logFrom(code: string, env: Record<string, string>): string {
  const out = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: REPO_DIR, encoding: 'utf8', env: { ...process.env, ...env },
  });
  assert.equal(out.status, 0, out.stderr);
  return out.stderr;
}

const LOG_A_SECRET = `
import { createLogger } from './src/observability/logger.ts';
const log = createLogger('demo');
log.info({ processor: 'router', password: 'hunter2', config: { clientSecret: 's3cret', token: 'tok' } }, 'stage started');
log.warn({ stage: 'sf-sink', headers: { authorization: 'Bearer abc' } }, 'careful');
`;

describe('logs a person can read', () => {
  test('a terminal gets readable lines, anything else JSON; LOG_FORMAT chooses', () => {
    assert.equal(logFormat({}, true), 'pretty');
    assert.equal(logFormat({}, false), 'json');
    assert.equal(logFormat({ LOG_FORMAT: 'json' }, true), 'json');
    assert.equal(logFormat({ LOG_FORMAT: 'PRETTY' }, false), 'pretty');
    assert.equal(logFormat({ LOG_FORMAT: 'fancy' }, false), 'json', 'an unknown format is ignored');
  });

  test('readable lines: level, logger, processor and message on one line; secrets redacted', () => {
    const text = logFrom(LOG_A_SECRET, { LOG_FORMAT: 'pretty', LOG_LEVEL: 'info' });
    const lines = text.trim().split('\n');
    assert.equal(lines.length, 2, text);
    assert.match(lines[0]!, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO \(demo\): router: stage started/);
    assert.match(lines[1]!, /WARN \(demo\): sf-sink: careful/);
    for (const secret of ['hunter2', 's3cret', 'tok"', 'Bearer abc']) assert.ok(!text.includes(secret), `${secret} is not printed:\n${text}`);
    assert.match(text, /\[redacted\]/);
    assert.ok(!text.includes('{"level"'), 'no JSON');
  });

  test('piped: one JSON object a line, secrets redacted', () => {
    const text = logFrom(LOG_A_SECRET, { LOG_FORMAT: '', LOG_LEVEL: 'info' });
    const lines = text.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => [l.level, l.name, l.msg]), [[30, 'demo', 'stage started'], [40, 'demo', 'careful']]);
    assert.equal(lines[0].password, '[redacted]');
    assert.equal(lines[0].config.clientSecret, '[redacted]');
    assert.equal(lines[1].headers.authorization, '[redacted]');
  });

  test('observability.logLevel is the level unless --log-level or LOG_LEVEL chose one', () => {
    const implicit: NodeJS.ProcessEnv = { LOG_LEVEL: 'info', SHOPFORCE_LOG_LEVEL_IMPLICIT: '1' };
    assert.equal(applyConfiguredLogLevel('debug', implicit), 'debug');
    assert.equal(implicit.LOG_LEVEL, 'debug');
    const chosen: NodeJS.ProcessEnv = { LOG_LEVEL: 'warn' };
    assert.equal(applyConfiguredLogLevel('debug', chosen), 'warn');
    assert.equal(chosen.LOG_LEVEL, 'warn');
    assert.equal(applyConfiguredLogLevel('error', {}), 'error');
    // loggers made before the configuration was read follow it
    const text = logFrom(`
      import { applyConfiguredLogLevel, createLogger } from './src/observability/logger.ts';
      const early = createLogger('early');
      applyConfiguredLogLevel('warn');
      early.info('hidden'); early.warn('shown'); createLogger('late').info('hidden too');
    `, { LOG_FORMAT: 'json', LOG_LEVEL: 'info', SHOPFORCE_LOG_LEVEL_IMPLICIT: '1' });
    assert.deepEqual(text.trim().split('\n').map((l) => JSON.parse(l).msg), ['shown']);
  });
});

describe('kafkajs lines', () => {
  function capture(): { log: pino.Logger; lines: Array<{ level: number; msg: string }> } {
    const lines: Array<{ level: number; msg: string }> = [];
    const sink = new Writable({ write(chunk, _enc, done) { lines.push(JSON.parse(String(chunk))); done(); } });
    return { log: pino({ level: 'trace' }, sink), lines };
  }
  const entry = (message: string, fields: Record<string, unknown> = {}) => ({ namespace: 'x', level: logLevel.ERROR, label: 'ERROR', log: { timestamp: '', message, ...fields } });

  test('answers kafkajs retries by itself are debug, the rest keep their level', async () => {
    const { log, lines } = capture();
    const write = kafkajsLogCreator(log)(logLevel.DEBUG);
    write(entry('Response ListOffsets(key: 2, version: 3)', { error: 'This server is not the leader for that topic-partition' }));
    write(entry('Response GroupCoordinator(key: 10, version: 2)', { error: 'The group coordinator is not available' }));
    write(entry('Response InitProducerId(key: 22, version: 1)', { error: 'The coordinator is loading and hence can\'t process requests for this group' }));
    write(entry('Failed to send messages: The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing', { retryCount: 0 }));
    write(entry('Response CreateTopics(key: 19, version: 3)', { error: 'Topic creation errors' }));
    write({ ...entry('Limiting retries for the idempotent producer may invalidate EoS guarantees'), level: logLevel.WARN });
    write(entry('Response Produce(key: 0, version: 7)', { error: 'The producer has been rejected from the broker because it tried to use an old epoch with the transactionalId' }));
    write(entry('Failed to connect to broker, reconnecting', { retryCount: 3 }));
    write({ ...entry('Consumer has joined the group'), level: logLevel.INFO });
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(lines.map((l) => l.level), [20, 20, 20, 20, 20, 20, 50, 50, 30]);
  });

  test('a retriable answer is recognised by its text', () => {
    assert.equal(isKafkajsChatter('Response Metadata(key: 3, version: 6)', { error: 'This server does not host this topic-partition' }), true);
    assert.equal(isKafkajsChatter('Response Metadata(key: 3, version: 6)', { error: 'Not authorized to access topics: [Topic authorization failed]' }), false);
    assert.equal(isKafkajsChatter('Failed to send messages: Broker: Message was too large', {}), false);
  });
});
