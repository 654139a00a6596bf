/**
 * `backfill.initialLoad`: at its first start, `run` loads the org's records of the listed entities into
 * the shop (a backfill to the shop, docs/design.md "Backfill"), while the pipeline already runs: the
 * reconciler orders what it hands over against the live changes. Its checkpoint says when it was done,
 * so a later start skips it, and one stopped part way resumes it.
 */
import type { Connection } from 'jsforce';
import { BackfillCheckpoints, lineProgress, runBackfill } from '../backfill/index.ts';
import type { SharedPieces, Stage } from './pipeline.ts';

export function initialLoadStage(shared: SharedPieces, conn: () => Promise<Connection>): Stage {
  const { config, kafka, registry, names } = shared;
  const log = shared.log.child({ stage: 'initial-load' });
  const stop = new AbortController();
  let running: Promise<void> | undefined;
  let failed = false;

  async function load(): Promise<void> {
    const checkpoints = await new BackfillCheckpoints(kafka, names.backfillCheckpoints).load();
    for (const entity of config.backfill.initialLoad) {
      if (stop.signal.aborted) return;
      if (checkpoints.get(entity, 'shop')?.state === 'done') {
        log.info({ entity }, 'initial load done at an earlier start');
        continue;
      }
      const report = await runBackfill({
        config, kafka, registry, conn, log, signal: stop.signal,
        progress: (label) => lineProgress(label, (line) => log.info(line), 10_000),
      }, { entity, to: 'shop', since: null });
      log.info({ ...report, callsByOperation: undefined }, `initial load of ${entity}: ${report.state}`);
    }
  }

  return {
    name: 'initial-load',
    role: 'source',
    async start() {
      if (config.backfill.initialLoad.length === 0) return;
      running = load().catch((err) => {
        failed = true;
        log.error({ err }, 'initial load failed: the next start resumes it from its checkpoint');
      });
    },
    async stop() {
      stop.abort();
      await running;
    },
    ready: () => !failed,
  };
}
