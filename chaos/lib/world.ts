/**
 * What a chaos run acts on: the local stack (its processes, which faults stop and start), a Salesforce
 * org emulator in this process, and `shopforce run` as a child process (which a fault kills), all eight
 * flows on, syncing one shop of its own (`cx-<run>`), so the counts see only this run's records.
 */
import { randomUUID } from 'node:crypto';
import type { Connection } from 'jsforce';
import pg from 'pg';
import type { ShopforceConfig } from '../../src/config/schema.ts';
import { createStackContext } from '../../src/stack/context.ts';
import type { StackContext } from '../../src/stack/component.ts';
import { stackStatus, stackUp, type StackAddresses } from '../../src/stack/stack.ts';
import { jwtConnection, startTestSandbox, type TestSandbox } from '../../test/sandbox/sandbox-helpers.ts';
import { testPipelineConfig } from '../../test/support/pipeline.ts';
import { PipelineProcess, sandboxEnv } from '../../test/support/pipeline-process.ts';

export const ALL_ENTITIES = ['customer', 'order', 'product', 'stock', 'payment', 'invoice', 'support_ticket', 'campaign_segment'] as const;

/** `run` exited without being asked to: when, how, and its last error lines. */
export interface Crash { at: string; exitCode: number | null; lastErrors: string[] }

export interface World {
  /** The run's tag: every key the traffic makes starts with it. */
  run: string;
  shopId: string;
  stackCtx: StackContext;
  stack: StackAddresses;
  t: TestSandbox;
  /** A jsforce connection of the chaos run itself (its reads; the org's people write through admin.userEdit). */
  sf: Connection;
  /** The shop database; a pool, so a PostgreSQL restart only costs the connections in use. */
  db: pg.Pool;
  config: ShopforceConfig;
  pipeline: PipelineProcess;
  log(msg: string): void;
  /** When `run` is not running although no fault stopped it: records the crash and starts it again, as a service manager would. */
  restartIfCrashed(): Promise<Crash | undefined>;
  close(): Promise<void>;
}

/**
 * What `run` said last before it exited: its error and fatal log lines (pino JSON, level 50 and up),
 * and the lines of an uncaught error Node printed (`Error: ...`, `at ...` left out).
 */
function lastErrors(output: string): string[] {
  return output.split('\n').flatMap((line) => {
    try {
      const o = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
      return (o.level ?? 0) >= 50 ? [`${o.msg ?? ''}${o.err?.message ? `: ${o.err.message}` : ''}`.slice(0, 300)] : [];
    } catch {
      return /^\s*(\w*Error\b|node:|throw|Emitted 'error')/.test(line) ? [line.trim().slice(0, 300)] : [];
    }
  }).slice(-5);
}

export interface WorldOptions {
  /** The stock merge window of the run (ms). */
  stockWindowMs: number;
  log(msg: string): void;
  /** Further settings of the run's config (e.g. a short sink.parentTimeoutMs). */
  configure?(c: ShopforceConfig): void;
}

export async function startWorld(opts: WorldOptions): Promise<World> {
  const stackCtx = createStackContext({ quiet: true });
  const status = await stackStatus(stackCtx);
  const stack = status.healthy ? status.addresses : (await stackUp(stackCtx)).addresses;
  const t = await startTestSandbox({ dailyApiLimit: 10_000_000 });
  const run = randomUUID().slice(0, 6).toUpperCase();
  const shopId = `cx-${run.toLowerCase()}`;
  const db = new pg.Pool({ connectionString: stack.postgres.url, max: 4 });
  // a PostgreSQL restart ends idle connections: the pool drops them and opens new ones
  db.on('error', () => {});
  const config = testPipelineConfig(stack, sandboxEnv(t), (c) => {
    c.shopId = shopId;
    c.salesforce.apiVersion = '60.0';
    for (const e of ALL_ENTITIES) c.entities[e].enabled = true;
    c.entities.stock.windowMs = opts.stockWindowMs;
    opts.configure?.(c);
  });
  const pipeline = new PipelineProcess(config, { env: { LOG_LEVEL: 'warn' } });
  const close = async () => {
    await pipeline.cleanup().catch(() => {});
    await db.end().catch(() => {});
    await t.cleanup();
  };
  try {
    const sf = await jwtConnection(t.sb);
    await pipeline.start();
    await pipeline.waitReady(300_000);
    const restartIfCrashed = async (): Promise<Crash | undefined> => {
      if (pipeline.running) return undefined;
      const crash = { at: new Date().toISOString(), exitCode: await pipeline.exitedByItself(), lastErrors: lastErrors(pipeline.output()) };
      opts.log(`\`run\` exited by itself (code ${crash.exitCode}): ${crash.lastErrors.join(' / ')}; starting it again`);
      // as a service manager does: start it again, with a pause after a start that failed (a store it needs still coming back)
      for (let attempt = 1; ; attempt++) {
        try {
          await pipeline.restart();
          return crash;
        } catch (err) {
          opts.log(`start ${attempt} of \`run\` failed: ${String((err as Error).message).split('\n').slice(-2).join(' ')}`);
          if (attempt >= 20) throw err;
          await new Promise((r) => setTimeout(r, 5_000));
        }
      }
    };
    return { run, shopId, stackCtx, stack, t, sf, db, config, pipeline, log: opts.log, restartIfCrashed, close };
  } catch (err) {
    await close();
    throw err;
  }
}
