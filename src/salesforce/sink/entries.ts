import type { SalesforceWrite } from '../../entities/types.ts';
import { commandKey } from './keys.ts';
import { mergeCommands } from './merge.ts';
import type { ParentRef, SalesforceErrorInfo, WriteOutcome } from './types.ts';

/** One caller's command waiting for its outcome. */
export interface Slot {
  command: SalesforceWrite;
  done: boolean;
  resolve: (o: WriteOutcome) => void;
}

/** The pending write of one record: the merged command and every command merged into it. */
export interface Entry {
  key: string;
  command: SalesforceWrite;
  slots: Slot[];
  /** Set while parked (first time the parent was found missing). */
  parkedSince?: number;
  parent?: ParentRef;
  lastError?: SalesforceErrorInfo;
  lastTry?: number;
  /** A write of its parent landed: retry on the next flush. */
  released?: boolean;
}

export function newEntry(slot: Slot): Entry {
  return { key: commandKey(slot.command), command: slot.command, slots: [slot] };
}

/** Adds a later command (or a later entry) for the same record. */
export function absorb(entry: Entry, later: Entry): void {
  entry.command = mergeCommands(entry.command, later.command);
  entry.slots.push(...later.slots);
  entry.parkedSince = undefined;
  entry.parent = undefined;
  entry.released = false;
}

export type Deliver = (slot: Slot, outcome: WriteOutcome) => void;

/**
 * Gives the entry's outcome to its latest command and `coalesced` to the earlier ones; keeps only
 * the latest slot (a parked entry waits on).
 */
export function settle(entry: Entry, deliver: Deliver, make: (command: SalesforceWrite) => WriteOutcome): void {
  const last = entry.slots[entry.slots.length - 1]!;
  for (const s of entry.slots.slice(0, -1)) deliver(s, { status: 'coalesced', command: s.command, supersededBy: last.command.commandId });
  deliver(last, make(last.command));
  entry.slots = [last];
}
