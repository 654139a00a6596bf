/**
 * What the whole-pipeline benchmarks share: the real stack, a sandbox org emulator in this process and
 * `shopforce run`'s stages in this process, for a shop of the benchmark's own (its rows only), and the
 * line that says on what machine and under what load a run was made.
 */
import os from 'node:os';
import type { Connection } from 'jsforce';
import pg from 'pg';
import type { ShopforceConfig } from '../../src/config/schema.ts';
import { restParentLookup } from '../../src/processors/router.ts';
import { startPipeline, type Pipeline } from '../../src/run/pipeline.ts';
import { lazyConnection, salesforceStages } from '../../src/run/salesforce-stages.ts';
import { jwtConnection, startTestSandbox, type TestSandbox } from '../../test/sandbox/sandbox-helpers.ts';
import { sandboxEnv } from '../../test/support/pipeline-process.ts';
import { skipShopHistory, testPipelineConfig } from '../../test/support/pipeline.ts';
import { getTestStack } from '../../test/support/stack.ts';

export interface BenchPipeline {
  t: TestSandbox;
  /** the shop database, connected */
  db: pg.Client;
  /** a jsforce connection to the emulator (the bench's own, not the pipeline's) */
  sf: Connection;
  config: ShopforceConfig;
  pipeline: Pipeline;
  /** stops the pipeline, closes the database and removes the emulator */
  close(): Promise<void>;
}

/**
 * Starts the emulator and the pipeline for shop `shopId` (the test config: the example's, with consumer
 * groups and topics of its own, its router started at the end of the shared shop CDC topics); `overrides`
 * sets the rest of the config. What started is closed again when a later step fails.
 */
export async function startBenchPipeline(shopId: string, overrides: (c: ShopforceConfig) => void, log: (msg: string) => void): Promise<BenchPipeline> {
  const stack = await getTestStack();
  const t = await startTestSandbox({ dailyApiLimit: 1_000_000 });
  const db = new pg.Client({ connectionString: stack.postgres.url });
  let pipeline: Pipeline | undefined;
  const close = async () => {
    await pipeline?.stop().catch((err) => log(`pipeline stop failed: ${(err as Error).message}`));
    await db.end().catch(() => {});
    await t.cleanup();
  };
  try {
    await db.connect();
    const sf = await jwtConnection(t.sb);
    const config = testPipelineConfig(stack, sandboxEnv(t), (c) => {
      c.shopId = shopId;
      c.salesforce.apiVersion = '60.0';
      overrides(c);
    });
    await skipShopHistory(config);
    const conn = lazyConnection(config);
    pipeline = await startPipeline(config, { lookupParent: restParentLookup(conn), stages: (shared) => salesforceStages(shared, conn) });
    return { t, db, sf, config, pipeline, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** "machine: 2 cores (...), 24 GiB, Node v20; load avg before ..., after ..." */
export function machineLine(loadBefore: number[]): string {
  const cpus = os.cpus();
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  return `machine: ${cpus.length} cores (${cpus[0]?.model ?? 'cpu'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}; load avg before ${load(loadBefore)}, after ${load(os.loadavg())} (machine shared with other work)`;
}
