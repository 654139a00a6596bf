/** Per-key state: creation, bounded memories, JSON (de)serialisation for the compacted changelog topic. */
import type { InFlightWrite, KeyState } from './types.ts';

export function emptyState(key: string): KeyState {
  return {
    v: 1, key, lastFromShop: null, lastFromSalesforce: null, base: null, deleted: false, inFlight: [], seenPositions: [],
    sideValues: { SHOP: null, SALESFORCE: null }, windowPending: false,
  };
}

export function rememberPosition(positions: string[], id: string, limit: number): string[] {
  const next = [...positions, id];
  return next.length > limit ? next.slice(next.length - limit) : next;
}

export function boundInFlight(writes: InFlightWrite[], limit: number): InFlightWrite[] {
  return writes.length > limit ? writes.slice(writes.length - limit) : writes;
}

/**
 * Forgets in-flight writes that will never echo: the sink skipped them (nothing to change) or sent them to the
 * DLQ. The processor calls this with the ids it learns from the sink's results.
 */
export function dropInFlight(state: KeyState, writeIds: readonly string[]): KeyState {
  return { ...state, inFlight: state.inFlight.filter((w) => !writeIds.includes(w.id)) };
}

export function serializeState(state: KeyState): string {
  return JSON.stringify(state);
}

export class StateError extends Error {}

/** Parses a changelog value; throws StateError naming what is wrong (a bad value is a poison record). */
export function parseState(text: string | Buffer): KeyState {
  let v: unknown;
  try {
    v = JSON.parse(text.toString());
  } catch (err) {
    throw new StateError(`reconcile state is not JSON: ${(err as Error).message}`);
  }
  const s = v as Partial<KeyState> | null;
  if (!s || s.v !== 1 || typeof s.key !== 'string' || !Array.isArray(s.inFlight) || !Array.isArray(s.seenPositions)) {
    throw new StateError('reconcile state has an unknown shape (expected v=1 with key, inFlight, seenPositions)');
  }
  return { ...emptyState(s.key), ...s } as KeyState;
}
