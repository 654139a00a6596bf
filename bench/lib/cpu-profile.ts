/**
 * A CPU profile of one phase of a benchmark (V8's sampling profiler through node:inspector), written
 * as a .cpuprofile (Chrome DevTools, speedscope) and summed up: the functions with the most self time,
 * and the share of the program's own code, its libraries, Node's internals, GC and idle.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] }

export interface ProfileSummary {
  /** Share of all samples in which the thread waited (the event loop idle): the shares below are of the rest. */
  idlePercent: number;
  /** Top self-time frames: "function (file:line)" with their share of all samples, in percent. */
  top: Array<{ frame: string; percent: number }>;
  /** Self time by where the code lives: src/, node_modules/<package>, node internals, (garbage collector), (idle), (program). */
  byPlace: Array<{ place: string; percent: number }>;
  /** The project's own functions (src/) by total time, callees included: where the time is spent from. */
  ownTotal: Array<{ frame: string; percent: number }>;
}

export class CpuProfile {
  private readonly session = new Session();

  async start(): Promise<void> {
    this.session.connect();
    await this.session.post('Profiler.enable');
    await this.session.post('Profiler.setSamplingInterval', { interval: 500 });
    await this.session.post('Profiler.start');
  }

  /** Stops the profiler, writes the profile to `file` and sums it up. */
  async stop(file: string, topN = 25): Promise<ProfileSummary> {
    const { profile } = (await this.session.post('Profiler.stop')) as unknown as { profile: Profile };
    await this.session.post('Profiler.disable');
    this.session.disconnect();
    writeFileSync(file, JSON.stringify(profile));
    return summarize(profile, topN);
  }
}

function placeOf(url: string, name: string): string {
  if (name === '(garbage collector)' || name === '(idle)' || name === '(program)' || name === '(root)') return name;
  if (!url) return 'native';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg) return `node_modules/${pkg}`;
  if (url.startsWith('node:') || !url.includes('/')) return 'node internals';
  const own = /\/(src|bench|test)\//.exec(url);
  return own ? `${own[1]}/` : 'other';
}

export function summarize(profile: Profile, topN: number): ProfileSummary {
  const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  const hits = new Map<number, number>();
  let idleHits = 0;
  for (const id of profile.samples) {
    if (idle.has(id)) idleHits++;
    else hits.set(id, (hits.get(id) ?? 0) + 1);
  }
  const total = profile.samples.length - idleHits || 1;
  const frames = new Map<string, number>();
  const places = new Map<string, number>();
  for (const node of profile.nodes) {
    const n = hits.get(node.id) ?? 0;
    if (n === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url.replace(/^file:\/\//, '').replace(/^.*\/(src|bench|test|node_modules)\//, '$1/');
    const frame = `${functionName || '(anonymous)'}${file ? ` (${file}:${lineNumber + 1})` : ''}`;
    frames.set(frame, (frames.get(frame) ?? 0) + n);
    const place = placeOf(url, functionName);
    places.set(place, (places.get(place) ?? 0) + n);
  }
  const pct = (n: number) => Math.round((n / total) * 1000) / 10;
  // total time of each src/ function: the samples under it, each counted once per function even when it recurses
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const c of node.children ?? []) parent.set(c, node.id);
  const ownTotals = new Map<string, number>();
  for (const [id, n] of hits) {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const { functionName, url, lineNumber } = byId.get(at)!.callFrame;
      if (!/\/src\//.test(url) || url.includes('/node_modules/')) continue;
      const frame = `${functionName || '(anonymous)'} (${url.replace(/^.*\/src\//, 'src/')}:${lineNumber + 1})`;
      if (seen.has(frame)) continue;
      seen.add(frame);
      ownTotals.set(frame, (ownTotals.get(frame) ?? 0) + n);
    }
  }
  return {
    idlePercent: Math.round((idleHits / (profile.samples.length || 1)) * 1000) / 10,
    ownTotal: [...ownTotals].sort((a, b) => b[1] - a[1]).slice(0, topN).map(([frame, n]) => ({ frame, percent: pct(n) })),
    top: [...frames].sort((a, b) => b[1] - a[1]).slice(0, topN).map(([frame, n]) => ({ frame, percent: pct(n) })),
    byPlace: [...places].sort((a, b) => b[1] - a[1]).map(([place, n]) => ({ place, percent: pct(n) })),
  };
}
