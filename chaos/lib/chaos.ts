/**
 * A chaos run: mixed traffic on every flow while the faults are injected one after the other (a phase
 * each: warm-up, fault held, healed, recovery probed), then the traffic stops, the pipeline settles and
 * both sides are counted, phase by phase.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { readDlq } from '../../src/dlq/dlq-reader.ts';
import { topicNames } from '../../src/flows/topic-names.ts';
import type { Fault } from '../faults/index.ts';
import { countAll, totalDoubled, totalLost, type PhaseCount } from './count.ts';
import { recoveryMs } from './probe.ts';
import { Traffic } from './traffic.ts';
import { startWorld, type Crash, type World } from './world.ts';

export interface ChaosOptions {
  faults: Fault[];
  /** Traffic changes per second (all flows together). */
  ratePerSecond: number;
  /** Traffic before each fault (ms). */
  warmMs: number;
  /** How long the counts may keep improving after the traffic stopped (ms). */
  settleMs: number;
  stockWindowMs: number;
  log(msg: string): void;
}

export interface PhaseResult {
  fault: string;
  description: string;
  /** Changes the traffic made while the fault was on (from injection to heal). */
  inFlight: number;
  /** From the heal until a change on each side landed on the other (ms); undefined: not within the limit. */
  recoveryMs: number | undefined;
  lost: number;
  doubled: number;
  count: PhaseCount;
  /** Dead letters written during the phase, by reason. */
  deadLetters: Record<string, number>;
  /** Times `run` exited by itself during the phase (it was started again). */
  crashes: Crash[];
}

export interface ChaosResult {
  run: string;
  startedAt: string;
  seconds: number;
  ratePerSecond: number;
  changes: number;
  phases: PhaseResult[];
  /** Traffic writes a fault refused (the org's people or the shop could not write), by error. */
  trafficSkipped: Record<string, number>;
  deadLettersWithoutReason: number;
  settledAfterMs: number;
  /**
   * Records the org was sent for the objects the traffic writes once per record (Payment__c, Case),
   * past one per record: what the pipeline sent again (idempotent upserts, so not doubled records).
   */
  resentWrites: Record<string, number>;
}

const RECOVERY_LIMIT_MS = 600_000;

/** Records of `object` the org received in write calls since it started, through every API. */
function recordsReceived(w: World, object: string): number {
  return Object.values(w.t.sb.admin.counters().writesByApi).reduce((m, byObject) => m + (byObject[object]?.received ?? 0), 0);
}

export async function runChaos(opts: ChaosOptions): Promise<ChaosResult> {
  const started = Date.now();
  const { log } = opts;
  log('starting the stack, the org emulator and `shopforce run` (all eight flows)');
  const w = await startWorld({ stockWindowMs: opts.stockWindowMs, log });
  try {
    const probePhase = opts.faults.length;
    const traffic = new Traffic(w, opts.faults.length + 1, opts.ratePerSecond);
    log(`setup: catalogue, warehouse and stock levels of shop ${w.shopId}`);
    await traffic.setup();
    const probeSku = traffic.sku(probePhase, 0);
    const probeEntry = (await w.sf.query<{ Id: string }>(`SELECT Id FROM PricebookEntry WHERE Product2.Sku__c = '${probeSku}'`)).records[0]!.Id;
    traffic.start();
    const windows: Array<{ from: number; to: number; inFlight: number; recovery: number | undefined; crashes: Crash[] }> = [];
    for (const [k, fault] of opts.faults.entries()) {
      traffic.phase = k;
      const from = Date.now();
      await sleep(opts.warmMs);
      const changesBefore = traffic.ledger.changesByPhase.get(k) ?? 0;
      log(`${fault.name}: injecting (${fault.description})`);
      await fault.inject(w);
      const until = Date.now() + fault.holdMs;
      while (Date.now() < until) {
        await sleep(Math.min(5_000, Math.max(0, until - Date.now())));
        if (Date.now() < until) await fault.during?.(w);
      }
      log(`${fault.name}: healing`);
      const crashes: Crash[] = [];
      // a heal that fails (a broker slow to load its logs past the start timeout) is tried again, not the end of the run
      for (let attempt = 1; ; attempt++) {
        try {
          await fault.heal(w);
          break;
        } catch (err) {
          log(`${fault.name}: heal ${attempt} failed: ${(err as Error).message.split('\n')[0]}`);
          if (attempt >= 3) throw err;
        }
      }
      const inFlight = (traffic.ledger.changesByPhase.get(k) ?? 0) - changesBefore;
      const recovery = await recoveryMs(w, probeSku, probeEntry, k, RECOVERY_LIMIT_MS, crashes);
      log(`${fault.name}: ${inFlight} changes during the fault; recovered ${recovery === undefined ? 'NOT within the limit' : `in ${(recovery / 1000).toFixed(1)} s`}`);
      windows.push({ from, to: Date.now(), inFlight, recovery, crashes });
    }
    await traffic.stop();
    log(`traffic stopped after ${[...traffic.ledger.changesByPhase.values()].reduce((a, b) => a + b, 0)} changes; waiting for the pipeline to settle`);

    // settle: until nothing is missing, or the counts stop improving for a while
    const settleStart = Date.now();
    let counts = await countAll(w, traffic.ledger, opts.faults.length);
    let missing = counts.reduce((n, c) => n + totalLost(c) + totalDoubled(c) + c.stockOff.length, 0);
    let improved = Date.now();
    while (missing > 0 && Date.now() - improved < opts.settleMs) {
      await sleep(5_000);
      const crash = await w.restartIfCrashed();
      if (crash) windows.at(-1)?.crashes.push(crash);
      const next = await countAll(w, traffic.ledger, opts.faults.length);
      const nextMissing = next.reduce((n, c) => n + totalLost(c) + totalDoubled(c) + c.stockOff.length, 0);
      if (nextMissing < missing) improved = Date.now();
      counts = next;
      missing = nextMissing;
      log(`settling: ${missing} records still off`);
    }
    // the stock merge writes once a window: one more window, then the final count
    await sleep(opts.stockWindowMs * 2);
    counts = await countAll(w, traffic.ledger, opts.faults.length);
    const settledAfterMs = Date.now() - settleStart;

    const dlq = await readDlq(w.config.kafka, topicNames(w.config.kafka.topicNamespace).dlq).catch((err: Error) => {
      if (/does not exist/.test(err.message)) return [];
      throw err;
    });
    const phases: PhaseResult[] = opts.faults.map((fault, k) => {
      const win = windows[k]!;
      const deadLetters: Record<string, number> = {};
      for (const d of dlq) {
        const at = Date.parse(d.failedAt);
        if (at >= win.from && (k === opts.faults.length - 1 || at < windows[k + 1]!.from)) deadLetters[d.reason || '(no reason)'] = (deadLetters[d.reason || '(no reason)'] ?? 0) + 1;
      }
      return {
        fault: fault.name, description: fault.description, inFlight: win.inFlight, recoveryMs: win.recovery,
        lost: totalLost(counts[k]!), doubled: totalDoubled(counts[k]!), count: counts[k]!, deadLetters, crashes: win.crashes,
      };
    });
    return {
      run: w.run, startedAt: new Date(started).toISOString(), seconds: Math.round((Date.now() - started) / 1000), ratePerSecond: opts.ratePerSecond,
      changes: [...traffic.ledger.changesByPhase.values()].reduce((a, b) => a + b, 0),
      phases, trafficSkipped: Object.fromEntries(traffic.skipped), deadLettersWithoutReason: dlq.filter((d) => !d.reason).length, settledAfterMs,
      resentWrites: { Payment__c: recordsReceived(w, 'Payment__c') - traffic.ledger.payments.length, Case: recordsReceived(w, 'Case') - traffic.ledger.tickets.length },
    };
  } finally {
    await w.close();
  }
}
