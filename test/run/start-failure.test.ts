import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { startPipeline, type Stage } from '../../src/run/pipeline.ts';
import { getTestStack } from '../support/stack.ts';
import { skipShopHistory, testPipelineConfig } from '../support/pipeline.ts';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// A stage that cannot start (a topic the broker never learns of, a channel refused) ends `run` with its
// error: what was started before it is stopped, so the process exits instead of hanging half-started.
test('a stage that fails to start stops the stages started before it and closes the metrics port', async () => {
  const stack = await getTestStack();
  const config = testPipelineConfig(stack, { SF_LOGIN_URL: 'http://127.0.0.1:9', SF_CLIENT_ID: 'unused', SF_USERNAME: 'unused', SF_PRIVATE_KEY_PATH: '/unused' });
  await skipShopHistory(config);
  const port = await freePort();
  const events: string[] = [];
  const stage = (name: string, start: () => Promise<void>): Stage => ({
    name, role: 'source', start, stop: async () => { events.push(`${name} stopped`); }, ready: () => true, live: () => true,
  });

  await assert.rejects(
    startPipeline(config, {
      metricsPort: port,
      stages: async () => [
        stage('first', async () => { events.push('first started'); }),
        stage('second', async () => { throw new Error('subscribing to sf.source.channels: This server does not host this topic-partition'); }),
      ],
    }),
    /sf\.source\.channels/,
  );
  assert.deepEqual(events.filter((e) => e.startsWith('first')), ['first started', 'first stopped']);
  await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`), 'the metrics port is closed once start failed');
});
