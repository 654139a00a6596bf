import type { SalesforceSourceStatus } from '../../salesforce/source/index.ts';
import type { DeadLetterSummary, StageStatus } from '../../status/status.ts';

/** One line of a chart: a value per sample time, null where there was nothing to measure. */
export interface Series {
  name: string;
  values: Array<number | null>;
}

/** A reconcile alert (a conflict, a create on the side that owns nothing, negative stock) as the page lists it. */
export interface RecentAlert {
  at: string;
  entity: string;
  kind: string;
  key: string;
  message: string;
}

/** What /status/snapshot.json answers: everything the status page draws, at one moment. */
export interface StatusSnapshot {
  at: string;
  shopId: string;
  /** The stages of this process and whether each is ready (as /readyz says). */
  stages: Array<{ name: string; role: string; ready: boolean }>;
  /** The rolling window of samples, oldest first: times in Unix seconds, one value per series and time. */
  window: {
    sampleEveryMs: number;
    t: number[];
    /** Records per second the reconciler took in, per flow (entity). */
    throughput: Series[];
    /** Source commit to the write applied on the other side, per flow ("customer → salesforce"), in seconds: median and 95th percentile of each interval. */
    latencyP50: Series[];
    latencyP95: Series[];
  };
  /** Records behind the end of each partition this process owns, after its last batch. */
  partitions: Array<{ stage: string; topic: string; partition: number; lag: number }>;
  /** Each stage's consumer group as Kafka sees it (every copy of the process); refreshed now and then. */
  groups: { at: string | null; stages: StageStatus[]; error: string | null };
  /** The pipeline's dead letters (every copy of the process), with the latest reasons; refreshed now and then. */
  deadLetters: { at: string | null; summary: DeadLetterSummary | null; error: string | null; sentByThisProcess: number };
  /** The latest reconcile alerts of this process, newest first. */
  alerts: RecentAlert[];
  /** Share of the org's daily API quota left, as Salesforce last reported it (null before the first call). */
  quota: { remainingPercent: number | null; apiCalls: number };
  /** The Salesforce change-event channels: subscription state and replay position (null: no source here). */
  source: SalesforceSourceStatus | null;
  /** Child writes the Salesforce sink holds until their parent lands. */
  parked: number;
}
