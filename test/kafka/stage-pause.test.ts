import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyError, InfraError } from '../../src/kafka/errors.ts';
import { StagePause, StageStoppedError } from '../../src/kafka/stage-pause.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createMetricsRegistry } from '../../src/observability/metrics.ts';
import { classify } from '../../src/salesforce/sink/errors.ts';

const log = createLogger('test.pause');
const pgError = (code: string) => Object.assign(new Error(`pg ${code}`), { code });

test('errors of the environment are one class, infrastructure; a bad record is not', () => {
  // PostgreSQL: permission denied, unknown column, unknown table, statement timeout
  for (const code of ['42501', '42703', '42P01', '57014']) assert.equal(classifyError(pgError(code)), 'infrastructure', code);
  // Salesforce: an unknown field, a read-only field, no access
  for (const errorCode of ['INVALID_FIELD', 'INVALID_FIELD_FOR_INSERT_UPDATE', 'INSUFFICIENT_ACCESS_OR_READONLY']) {
    assert.equal(classifyError(Object.assign(new Error(errorCode), { errorCode })), 'infrastructure', errorCode);
    assert.equal(classify({ errorCode, message: '', fields: [] }), 'infrastructure', errorCode);
  }
  assert.equal(classifyError(new InfraError('registry down')), 'infrastructure');
  assert.equal(classifyError(new Error('wrapped', { cause: pgError('42501') })), 'infrastructure');
  // a record's own fault stays where it was: a check constraint, a value too long, a bad e-mail
  assert.equal(classifyError(pgError('23514')), 'fatal');
  assert.equal(classifyError(pgError('22001')), 'fatal');
  assert.equal(classify({ errorCode: 'INVALID_EMAIL_ADDRESS', message: '', fields: [] }), 'permanent');
  assert.equal(classify({ errorCode: 'STRING_TOO_LONG', message: '', fields: [] }), 'permanent');
  // an expired session is first renewed and retried (transient), not a pause at once
  assert.equal(classify({ errorCode: 'INVALID_SESSION_ID', message: '', fields: [] }), 'transient');
});

test('a paused stage holds the failing call, alerts once, reports the pause, and resumes by itself when the cause is fixed', async () => {
  const registry = createMetricsRegistry();
  const paused: string[] = [];
  const resumed: number[] = [];
  const pause = new StagePause({ stage: 'shop-sink', log, registry, minDelayMs: 5, maxDelayMs: 20, onPause: (s) => paused.push(s.reason), onResume: (s) => resumed.push(s.attempts) });
  let fixed = false;
  let calls = 0;
  const seen: Array<string | undefined> = [];
  const result = pause.run(async () => {
    calls += 1;
    seen.push(pause.state()?.reason);
    if (calls === 4) fixed = true;
    if (!fixed) throw pgError('42501');
    return 'landed';
  });
  assert.equal(await result, 'landed');
  assert.equal(calls, 4, 'tried again until the privilege came back');
  assert.deepEqual(paused, ['pg 42501'], 'one alert for the whole pause');
  assert.deepEqual(seen, [undefined, 'pg 42501', 'pg 42501', 'pg 42501'], 'paused while it held');
  assert.deepEqual(resumed, [3]);
  assert.equal(pause.state(), undefined, 'resumed');
  assert.match(await registry.metrics(), /shopforce_stage_paused\{stage="shop-sink"\} 0/);
});

test('an error that is the record\'s fault passes through (the sink dead-letters it); stop() ends a pause', async () => {
  const pause = new StagePause({ stage: 'sf-sink', log, minDelayMs: 5, maxDelayMs: 5 });
  await assert.rejects(pause.run(async () => { throw pgError('23514'); }), /pg 23514/);
  assert.equal(pause.state(), undefined);
  const held = pause.run(async () => { throw new InfraError('INVALID_FIELD: No such column'); });
  await new Promise((r) => setTimeout(r, 30));
  assert.match(pause.state()?.reason ?? '', /INVALID_FIELD/);
  pause.stop();
  await assert.rejects(held, StageStoppedError);
});

test('a schema registry that does not answer is an error of the environment while decoding; bytes that are not Avro are the record\'s', async () => {
  const { SchemaCatalogClient } = await import('../../src/avro/registry.ts');
  const down = new SchemaCatalogClient('http://127.0.0.1:9');
  const framed = Buffer.from([0, 0, 0, 0, 7, 2, 4]);
  const unreachable = await down.decode(framed).then(() => undefined, (err: unknown) => err);
  assert.equal(classifyError(unreachable), 'infrastructure', 'the sink pauses rather than dead-letter the record');
  const garbage = await down.decode(Buffer.from('{"not":"avro"}')).then(() => undefined, (err: unknown) => err);
  assert.ok(garbage instanceof Error);
  assert.notEqual(classifyError(garbage), 'infrastructure', 'a record that is not Confluent-framed Avro still goes to the dead-letter topic');
});

test('a lookup query the org does not answer (5xx, network, a session not renewed) holds the router; a malformed query does not', async () => {
  const { isSalesforceOutage } = await import('../../src/salesforce/sink/errors.ts');
  const sfError = (errorCode: string) => Object.assign(new Error(errorCode), { errorCode });
  for (const code of ['ERROR_HTTP_503', 'ERROR_HTTP_500', 'SERVER_UNAVAILABLE', 'ECONNREFUSED', 'INVALID_SESSION_ID', 'INSUFFICIENT_ACCESS']) {
    assert.equal(isSalesforceOutage(sfError(code)), true, code);
  }
  assert.equal(isSalesforceOutage(sfError('MALFORMED_QUERY')), false);
  // jsforce keeps only the message of a failed session renewal: a refused login or a login URL that does not answer
  const { errorInfo } = await import('../../src/salesforce/sink/errors.ts');
  const refused = new Error('Unable to refresh session due to: invalid_grant: inactive user');
  assert.equal(errorInfo(refused).errorCode, 'invalid_grant');
  assert.equal(isSalesforceOutage(refused), true);
  const unreachable = new Error('Unable to refresh session due to: fetch failed');
  assert.equal(errorInfo(unreachable).errorCode, 'SESSION_REFRESH_FAILED');
  assert.equal(classify(errorInfo(unreachable)), 'transient', 'the call\'s trouble, never the record\'s');
  const pause = new StagePause({ stage: 'router', log, minDelayMs: 5, maxDelayMs: 5, pausesOn: isSalesforceOutage });
  let calls = 0;
  const found = await pause.run(async () => {
    calls += 1;
    if (calls < 3) throw sfError('ERROR_HTTP_503');
    return new Map([['001A', 'SKU-1']]);
  });
  assert.equal(found.get('001A'), 'SKU-1');
  assert.equal(calls, 3);
});
