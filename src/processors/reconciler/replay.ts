/**
 * Salesforce source replays, told by replay id. The Salesforce source checkpoints a channel's replay
 * id after Kafka took the batch; killed in between, it resumes from the checkpoint and writes the
 * batch again, with the same replay ids (its `position`) and commit times. Replay ids only grow within
 * a channel, and a record's events reach the reconciler in their order, so a Salesforce change of a
 * record at or below the replay id and commit time of the last one taken for that record is one of
 * these copies: a duplicate, however far back the replay went. (The bounded seenPositions memory alone
 * misses a copy that comes after more than `reconcile.seenPositions` newer positions of the key, and
 * would apply an old value again.) A later commit time with a lower replay id (an org whose event
 * log started over) is not a copy.
 */
import type { RoutedChange } from '../../flows/routed-change.ts';
import { versionKey, type EntityState } from './images.ts';

/** The last live change event taken for a record: its replay id (a decimal string) and commit time. */
export interface TakenEvent {
  replayId: string;
  eventTime: number;
}

/** The replay id of a live Salesforce change event (decimal, or 0x-hex bytes), or null for any other position (re-read, backfill, shop). */
export function replayIdOf(msg: Pick<RoutedChange, 'origin' | 'sourcePosition'>): bigint | null {
  if (msg.origin !== 'SALESFORCE') return null;
  const id = /^sf:(?:\w+:)?(\d+|0x[0-9a-fA-F]+)$/.exec(msg.sourcePosition)?.[1];
  return id === undefined ? null : BigInt(id);
}

/** True when the change is a copy of one the key has taken already: a replayed event of the same record. */
export function isReplayed(state: EntityState, msg: RoutedChange): boolean {
  const id = replayIdOf(msg);
  const taken = state.taken?.[versionKey(msg)];
  return id !== null && taken !== undefined && id <= BigInt(taken.replayId) && msg.eventTime <= taken.eventTime;
}

/** The last events taken with this change's (kept for a delete too: an older copy cannot bring the record back). */
export function withTaken(state: EntityState, msg: RoutedChange): Record<string, TakenEvent> | undefined {
  const id = replayIdOf(msg);
  if (id === null) return state.taken;
  return { ...state.taken, [versionKey(msg)]: { replayId: id.toString(), eventTime: msg.eventTime } };
}
