import type { Connection } from 'jsforce';
import pg from 'pg';
import type { ShopforceConfig } from '../../src/config/schema.ts';
import { restParentLookup } from '../../src/processors/router.ts';
import { startPipeline, type Pipeline } from '../../src/run/pipeline.ts';
import { lazyConnection, salesforceStages } from '../../src/run/salesforce-stages.ts';
import type { StackAddresses } from '../../src/stack/stack.ts';
import { jwtConnection, startTestSandbox, type TestSandbox } from '../sandbox/sandbox-helpers.ts';
import { skipShopHistory } from './pipeline.ts';
import { getTestStack } from './stack.ts';

/** What a test of the whole sync needs: the real stack, an emulated org logged into, the shop database. */
export interface SyncFixture {
  stack: StackAddresses;
  t: TestSandbox;
  sf: Connection;
  db: pg.Client;
  /** Closes the database client and stops the emulator. */
  cleanup(): Promise<void>;
}

export async function startSyncFixture(): Promise<SyncFixture> {
  const stack = await getTestStack();
  const t = await startTestSandbox();
  const sf = await jwtConnection(t.sb);
  const db = new pg.Client({ connectionString: stack.postgres.url });
  await db.connect();
  return { stack, t, sf, db, async cleanup() { await db.end(); await t.cleanup(); } };
}

/** `shopforce run` in this process: every stage, the Salesforce ones included, from the shop's current end. */
export async function startPipelineInProcess(config: ShopforceConfig): Promise<Pipeline> {
  const conn = lazyConnection(config);
  await skipShopHistory(config);
  return startPipeline(config, { lookupParent: restParentLookup(conn), stages: (shared) => salesforceStages(shared, conn) });
}
