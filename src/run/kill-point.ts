/**
 * Fault injection for crash tests: with SHOPFORCE_TEST_KILL_AT=<point>:<n>[:<text>[:<least>]] in the
 * environment, the hook of <point> kills this process (SIGKILL, no cleanup) the n-th time it is
 * reached (with <text>: the n-th time with a key containing <text>; with <least>: with at least that
 * many keys, e.g. a batch of that many events). Without the variable (always, outside tests) the hook
 * is undefined and nothing is called.
 */
export type KillPoint = 'sf-source-between-kafka-write-and-checkpoint' | 'sf-sink-between-salesforce-write-and-commit';

export function killPoint(point: KillPoint, env: NodeJS.ProcessEnv = process.env): ((keys?: string[]) => void) | undefined {
  const [name, nth, text, least] = (env.SHOPFORCE_TEST_KILL_AT ?? '').split(':');
  if (name !== point) return undefined;
  const at = Number(nth) || 1;
  const atLeast = Number(least) || 0;
  let reached = 0;
  return (keys) => {
    if (text && !keys?.some((k) => k.includes(text))) return;
    if ((keys?.length ?? 0) < atLeast) return;
    reached++;
    if (reached === at) process.kill(process.pid, 'SIGKILL');
  };
}
