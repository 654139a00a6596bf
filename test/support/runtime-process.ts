import { fork, type ChildProcess } from 'node:child_process';

/** A processor in a child process (test/support/runtime-worker.ts), configured by `env`, to kill or stop. */
export function startWorker(env: Record<string, string>): ChildProcess {
  return fork(new URL('./runtime-worker.ts', import.meta.url).pathname, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** Resolves with how the child ended (at once if it already has). */
export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}
