import type { Connection } from 'jsforce';
import type { SalesforceWrite } from '../../entities/types.ts';
import { Lru } from './lru.ts';

const soqlString = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/**
 * The replayed writes that came too late: their record changed in Salesforce after the change the
 * write carries (LastModifiedDate after its eventTime), by a person or by a later write of ours.
 * Writing them would put an old value over a newer one, so the sink drops them. Salesforce keeps
 * LastModifiedDate in whole seconds, so a change in the same second as the write's cannot be ordered
 * by it: the guard's own memory of what the sink wrote settles that case for our writes (ReplayGuard).
 * One SOQL query per object and external id field; a record not in the org yet is not stale.
 */
export async function staleReplays(conn: Connection, replayed: SalesforceWrite[]): Promise<Set<string>> {
  const stale = new Set<string>();
  const groups = new Map<string, SalesforceWrite[]>();
  for (const c of replayed) {
    const k = `${c.sobject}.${c.externalIdField}`;
    groups.set(k, [...groups.get(k) ?? [], c]);
  }
  for (const commands of groups.values()) {
    const { sobject, externalIdField } = commands[0]!;
    const ids = [...new Set(commands.map((c) => c.externalId))];
    const soql = `SELECT ${externalIdField}, LastModifiedDate FROM ${sobject} WHERE ${externalIdField} IN (${ids.map(soqlString).join(', ')})`;
    const records = (await conn.query<Record<string, unknown>>(soql)).records;
    const modified = new Map(records.map((r) => [String(r[externalIdField]), Date.parse(String(r.LastModifiedDate))]));
    for (const c of commands) {
      const at = modified.get(c.externalId);
      if (at !== undefined && at > c.eventTime) stale.add(c.commandId);
    }
  }
  return stale;
}

const recordOf = (c: SalesforceWrite) => `${c.sobject}|${c.externalIdField}|${c.externalId}`;

/**
 * Keeps the commands sent back by `shopforce dlq replay` (marked by a header) from the moment they are
 * read until they are written, and drops those that came too late: see staleReplays, and the newest
 * change this sink wrote of each record (the last `maxRecords` records), which orders a replay against
 * our own later writes to the millisecond, where the org's date cannot.
 */
export class ReplayGuard {
  private readonly replayed = new Set<string>();
  private readonly newestWritten: Lru<number>;

  constructor(maxRecords = 100_000) {
    this.newestWritten = new Lru(maxRecords);
  }

  /** A command just read: remembered when it is a replay. */
  noteRead(command: SalesforceWrite, isReplay: boolean): void {
    if (isReplay) this.replayed.add(command.commandId);
  }

  /** The commands of a write split into those to write and the stale replays to drop (by command id). */
  async split(conn: () => Promise<Connection>, commands: SalesforceWrite[]): Promise<{ live: SalesforceWrite[]; stale: Set<string> }> {
    const replays = commands.filter((c) => this.replayed.has(c.commandId));
    const stale = new Set<string>();
    for (const c of replays) if ((this.newestWritten.get(recordOf(c)) ?? -Infinity) > c.eventTime) stale.add(c.commandId);
    const unsure = replays.filter((c) => !stale.has(c.commandId));
    if (unsure.length > 0) for (const id of await staleReplays(await conn(), unsure)) stale.add(id);
    return { live: commands.filter((c) => !stale.has(c.commandId)), stale };
  }

  /** A command landed in the org: a replay of an older change of its record is stale from now on. */
  landed(command: SalesforceWrite): void {
    const key = recordOf(command);
    if (command.eventTime > (this.newestWritten.get(key) ?? -Infinity)) this.newestWritten.set(key, command.eventTime);
  }

  /** The commands were written (or dropped): a retry of the same write is checked again until then. */
  settled(commands: SalesforceWrite[]): void {
    for (const c of commands) this.replayed.delete(c.commandId);
  }
}
