import type { Logger } from '../observability/logger.ts';

export interface Stoppable { stop(): Promise<void> | void }

export interface ShutdownOptions {
  logger: Logger;
  /** Force exit when stopping takes longer (default 30 s). */
  timeoutMs?: number;
  signals?: NodeJS.Signals[];
  /** Called with the exit code when done (default process.exit). */
  exit?: (code: number) => void;
}

/**
 * On SIGTERM/SIGINT stops every target in order (processors first, then servers: list them so),
 * each finishing the record in hand and committing what is done, then exits 0 (1 if a stop failed
 * or the timeout hit). A second signal exits at once. Returns a function that removes the handlers.
 */
export function installShutdownHandlers(targets: Stoppable[], opts: ShutdownOptions): () => void {
  const signals = opts.signals ?? ['SIGTERM', 'SIGINT'];
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      opts.logger.warn({ signal }, 'second signal: exiting now');
      exit(1);
      return;
    }
    stopping = true;
    opts.logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      opts.logger.error({ timeoutMs: opts.timeoutMs ?? 30_000 }, 'shutdown timed out');
      exit(1);
    }, opts.timeoutMs ?? 30_000);
    timer.unref();
    void (async () => {
      let code = 0;
      for (const t of targets) {
        try {
          await t.stop();
        } catch (err) {
          code = 1;
          opts.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'stopping failed');
        }
      }
      clearTimeout(timer);
      exit(code);
    })();
  };
  for (const s of signals) process.on(s, onSignal);
  return () => { for (const s of signals) process.off(s, onSignal); };
}
