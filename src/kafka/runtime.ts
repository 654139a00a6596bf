import type { Registry } from 'prom-client';
import { startHealthServer, type HealthServer } from '../observability/health.ts';
import type { Logger } from '../observability/logger.ts';
import { installShutdownHandlers } from './shutdown.ts';
import type { Processor } from './types.ts';

export interface RunOptions {
  /** The registry the processors' metrics are on (createMetricsRegistry()). */
  registry: Registry;
  logger: Logger;
  /** Health/metrics server address (default 127.0.0.1:0). */
  host?: string;
  port?: number;
  /** Install SIGTERM/SIGINT handlers that stop everything and exit (default true). */
  handleSignals?: boolean;
  shutdownTimeoutMs?: number;
}

export interface RunningProcessors {
  health: HealthServer;
  /** Stops the processors (each commits what it did and leaves its group), then the server. */
  stop(): Promise<void>;
}

/**
 * Runs processors in this process: serves /healthz, /readyz (all processors ready) and
 * /metrics, starts the processors, and on SIGTERM/SIGINT stops them gracefully before exiting.
 */
export async function runProcessors(processors: Processor[], opts: RunOptions): Promise<RunningProcessors> {
  const health = await startHealthServer({ registry: opts.registry, checks: processors, host: opts.host, port: opts.port });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.all(processors.map((p) => p.stop()));
    await health.close();
  };
  if (opts.handleSignals ?? true) installShutdownHandlers([{ stop }], { logger: opts.logger, timeoutMs: opts.shutdownTimeoutMs });
  try {
    for (const p of processors) await p.start();
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
  opts.logger.info({ health: health.url, processors: processors.map((p) => p.name) }, 'processors running');
  return { health, stop };
}
