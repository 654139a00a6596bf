/**
 * Secrets stay out of logs, error messages and dead-letter headers: secret-looking keys at any depth,
 * passwords inside database URLs and messages; and value errors describe the value without quoting it
 * (customer data), in the product's own readers and in Salesforce's answers.
 */
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildDlqMessage, parseDlqMessage } from '../../src/kafka/dlq.ts';
import { PoisonRecordError } from '../../src/kafka/errors.ts';
import { redactSecrets, redactText } from '../../src/observability/redact.ts';
import { str, timestamp, ValueError } from '../../src/entities/values.ts';
import { parseBulkError } from '../../src/salesforce/sink/bulk.ts';
import { errorInfo, recordError } from '../../src/salesforce/sink/errors.ts';
import { REPO_DIR } from '../../src/stack/context.ts';

const SECRETS = ['pw-one', 'pw-two', 'tok-three-abcdef', 'sid-four', 'k-five', 'pk-six', 'cs-seven', 'pg-pass-8', 'pg-pass-9', 'pg-pass-10', 'ck-11'];

const LOG_DEEP_SECRETS = `
import { createLogger } from './src/observability/logger.ts';
const log = createLogger('demo');
const err = new Error('connect failed: postgres://shop:pg-pass-8@db.internal:5432/shop');
err.cause = new Error('auth', { cause: { config: { sasl: { password: 'pw-one' } } } });
log.error({
  err, key: 'shop-1:customer:42',
  options: { kafka: { sasl: { Password: 'pw-two' } }, registry: { basic_auth: { credentials: 'x' } } },
  request: { headers: { Authorization: 'Bearer tok-three-abcdef', Cookie: 'sid=sid-four', 'Set-Cookie': 'ck-11' } },
  deep: [{ a: { b: { c: { d: { apiKey: 'k-five', private_key: 'pk-six', client_secret: 'cs-seven' } } } } }],
  databaseUrl: 'postgresql://shop:pg-pass-9@db.internal/shop',
}, 'cannot reach postgres://shop:pg-pass-10@db.internal/shop');
`;

function stderrOf(code: string, format: 'json' | 'pretty'): string {
  const out = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: REPO_DIR, encoding: 'utf8', env: { ...process.env, LOG_FORMAT: format, LOG_LEVEL: 'info' },
  });
  assert.equal(out.status, 0, out.stderr);
  return out.stderr;
}

describe('redaction', () => {
  for (const format of ['json', 'pretty'] as const) {
    test(`${format} logs: secret keys at any depth, error causes and URL passwords are hidden; record keys and hosts stay`, () => {
      const text = stderrOf(LOG_DEEP_SECRETS, format);
      for (const secret of SECRETS) assert.ok(!text.includes(secret), `${secret} leaked into:\n${text}`);
      assert.match(text, /shop-1:customer:42/, 'the record key stays readable');
      assert.match(text, /postgresql:\/\/shop:\[redacted\]@db\.internal\/shop/, 'the URL keeps its user and host');
      assert.match(text, /cannot reach postgres:\/\/shop:\[redacted\]@db\.internal\/shop/, 'the message too');
      if (format === 'json') {
        const line = JSON.parse(text.trim().split('\n').pop()!);
        assert.equal(line.deep[0].a.b.c.d.apiKey, '[redacted]');
        assert.equal(line.request.headers.Authorization, '[redacted]');
        assert.equal(line.options.kafka.sasl.Password, '[redacted]');
      }
    });
  }

  test('text: URL passwords, password=... pairs and bearer tokens', () => {
    assert.equal(redactText('postgres://u:p%40ss@h:5432/db and amqp://:only@h'), 'postgres://u:[redacted]@h:5432/db and amqp://:[redacted]@h');
    assert.equal(redactText('host=db user=shop password=s3cr3t dbname=shop'), 'host=db user=shop password=[redacted] dbname=shop');
    assert.equal(redactText('Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.x.y'), 'Authorization: Bearer [redacted]');
    assert.equal(redactText('https://example.com/path?q=1'), 'https://example.com/path?q=1', 'a URL without credentials is unchanged');
  });

  test('objects: the value of a secret-looking key is hidden whatever it holds; other keys keep theirs', () => {
    assert.deepEqual(redactSecrets({ level1: [{ sessionId: 'abc', token: { nested: 1 }, partitionKey: 'p', key: 'k', name: 'n' }] }),
      { level1: [{ sessionId: '[redacted]', token: '[redacted]', partitionKey: 'p', key: 'k', name: 'n' }] });
  });

  test('a dead letter\'s reason and stack carry no password of a URL the error quoted', () => {
    const error = new PoisonRecordError('insert failed on postgres://shop:pg-pass-8@db/shop: password=pw-one rejected');
    const message = buildDlqMessage({ processor: 'shop-sink', groupId: 'g', failure: 'non-retryable', error, errorClass: 'poison', attempts: 1, topic: 't', partition: 0,
      message: { key: Buffer.from('k'), value: Buffer.from('v'), headers: {}, offset: '1', timestamp: '0', attributes: 0 } });
    const entry = parseDlqMessage({ key: null, value: null, headers: message.headers });
    for (const secret of ['pg-pass-8', 'pw-one']) {
      assert.ok(!entry.reason.includes(secret) && !entry.stack.includes(secret), `${secret} in the dead letter`);
    }
    assert.match(entry.reason, /postgres:\/\/shop:\[redacted\]@db\/shop/);
  });
});

describe('value errors without customer data', () => {
  test('the product\'s readers name the field and the kind of value, not the value', () => {
    assert.throws(() => timestamp('customers.birthday', 'jane.doe@example.com'), (e: Error) =>
      e instanceof ValueError && e.message === 'field "customers.birthday": expected an ISO-8601 timestamp (got text of 20 characters)');
    assert.throws(() => str('customers.email', { address: 'jane.doe@example.com' }), (e: Error) => !e.message.includes('jane') && /customers\.email.*an object/.test(e.message));
  });

  test('Salesforce\'s invalid e-mail answer becomes "invalid e-mail in field Email", in Collections, REST and Bulk results', () => {
    const collections = recordError({ statusCode: 'INVALID_EMAIL_ADDRESS', message: 'Email: invalid email address: jane@@example.com', fields: ['Email'] });
    assert.deepEqual(collections, { errorCode: 'INVALID_EMAIL_ADDRESS', message: 'invalid e-mail in field Email', fields: ['Email'] });
    const rest = errorInfo(Object.assign(new Error('Email: invalid email address: jane@@example.com'), { errorCode: 'INVALID_EMAIL_ADDRESS', data: { fields: ['Email'] } }));
    assert.equal(rest.message, 'invalid e-mail in field Email');
    const bulk = parseBulkError('INVALID_EMAIL_ADDRESS:Email: invalid email address: jane@@example.com:Email --');
    assert.equal(bulk.message, 'invalid e-mail in field Email');
    const tooLong = recordError({ statusCode: 'STRING_TOO_LONG', message: 'Last Name: data value too large: Jane Doe-Something (max length=5)', fields: ['LastName'] });
    assert.equal(tooLong.message, 'value too long in field LastName');
  });

  test('other Salesforce errors keep their message (it names a field or a rule, not a value)', () => {
    const missing = recordError({ statusCode: 'REQUIRED_FIELD_MISSING', message: 'Required fields are missing: [Name]', fields: ['Name'] });
    assert.equal(missing.message, 'Required fields are missing: [Name]');
  });
});
