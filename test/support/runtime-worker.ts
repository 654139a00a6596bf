// A counting processor in its own process, for crash and shutdown tests. Configured by env:
// BROKERS, INPUT, OUTPUT, GROUP; TRANSACTIONAL=false for at-least-once mode; DELAY_MS per record;
// CRASH_AT_COMMIT=n to SIGKILL itself inside its n-th transaction, after the outputs and offsets
// were sent and before the commit; BLOCK_AT_COMMIT=n + BLOCK_MS + BLOCK_MARKER (a file path) to
// freeze its thread at that point instead (once per marker file, whichever worker gets there
// first), long enough for its group session to expire: it comes back as a zombie (and writes
// BLOCK_MARKER.woke as it goes on to commit).
// PUNCTUATE_OUTPUT (+ PUNCTUATE_MS, default 500) adds a tumbling window: each record also counts
// into state `w:<key>`, and every punctuation writes {key, window, seq} per open window to
// PUNCTUATE_OUTPUT, deletes it and bumps state `seq`; CRASH_AT_PUNCTUATION=n SIGKILLs the worker
// inside its n-th punctuation transaction, after the outputs were sent and before the commit.
// SIGTERM/SIGINT stop it gracefully (exit code 0).
import { existsSync, writeFileSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import { createProcessor } from '../../src/kafka/processor.ts';
import { installShutdownHandlers } from '../../src/kafka/shutdown.ts';
import { createLogger } from '../../src/observability/logger.ts';

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`runtime-worker: ${name} is not set`);
  return v;
};
const output = env('OUTPUT');
const crashAt = Number(process.env.CRASH_AT_COMMIT ?? 0);
const delayMs = Number(process.env.DELAY_MS ?? 0);
const windows = process.env.PUNCTUATE_OUTPUT;
const crashAtPunctuation = Number(process.env.CRASH_AT_PUNCTUATION ?? 0);
let punctuations = 0;
const logger = createLogger('runtime-worker', 'warn');
let commits = 0;

const processor = createProcessor<Buffer | null, number>({
  name: 'worker',
  kafka: new Kafka({ brokers: env('BROKERS').split(','), clientId: 'runtime-worker', logLevel: logLevel.NOTHING }),
  groupId: env('GROUP'),
  topics: [env('INPUT')],
  transactional: process.env.TRANSACTIONAL !== 'false',
  state: {},
  dlqTopic: `${env('GROUP')}.dlq`,
  maxRecordsPerCommit: 20,
  sessionTimeout: 6_000,
  heartbeatInterval: 500,
  logger,
  hooks: {
    beforeCommit() {
      commits++;
      if (crashAt > 0 && commits === crashAt) process.kill(process.pid, 'SIGKILL');
      const marker = process.env.BLOCK_MARKER;
      if (marker && commits === Number(process.env.BLOCK_AT_COMMIT) && !existsSync(marker)) {
        writeFileSync(marker, String(process.pid));
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(process.env.BLOCK_MS ?? 10_000));
        writeFileSync(`${marker}.woke`, String(process.pid));
      }
    },
    beforePunctuationCommit() {
      punctuations++;
      if (crashAtPunctuation > 0 && punctuations === crashAtPunctuation) process.kill(process.pid, 'SIGKILL');
    },
  },
  punctuate: windows ? {
    intervalMs: Number(process.env.PUNCTUATE_MS ?? 500),
    async handle(ctx) {
      const open = [...ctx.state.entries()].filter(([k]) => k.startsWith('w:'));
      if (open.length === 0) return [];
      const seq = (ctx.state.get('seq') ?? 0) + 1;
      ctx.state.set('seq', seq);
      for (const [k] of open) ctx.state.delete(k);
      return open.map(([k, window]) => ({ topic: windows, key: k.slice(2), value: JSON.stringify({ key: k.slice(2), window, seq, final: ctx.final }) }));
    },
  } : undefined,
  async handle(ctx) {
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    const key = ctx.key!.toString();
    const count = (ctx.state.get(key) ?? 0) + 1;
    ctx.state.set(key, count);
    if (windows) ctx.state.set(`w:${key}`, (ctx.state.get(`w:${key}`) ?? 0) + 1);
    return [{ topic: output, key, value: JSON.stringify({ key, input: ctx.value!.toString(), count }) }];
  },
});

installShutdownHandlers([processor], { logger });
await processor.start();
