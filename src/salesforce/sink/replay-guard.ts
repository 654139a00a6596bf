import type { Connection } from 'jsforce';
import type { SalesforceWrite } from '../../entities/types.ts';

const soqlString = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** Salesforce keeps LastModifiedDate in whole seconds: an event time compares with it at that precision. */
const wholeSecond = (ms: number) => Math.floor(ms / 1000) * 1000;

/**
 * The replayed writes that came too late: their record changed in Salesforce after the change the
 * write carries (LastModifiedDate after its eventTime), by a person or by a later write of ours.
 * Writing them would put an old value over a newer one, so the sink drops them. A record changed in
 * the same second as the write's change cannot be ordered (Salesforce keeps whole seconds): it counts
 * as changed since, since an old value put back is silent, while a dropped replay is logged and
 * shows as drift. One SOQL query per object and external id field; a record not in the org yet is not stale.
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
      if (at !== undefined && at >= wholeSecond(c.eventTime)) stale.add(c.commandId);
    }
  }
  return stale;
}

/**
 * Keeps the commands sent back by `shopforce dlq replay` (marked by a header) from the moment they are
 * read until they are written, and drops those that came too late (see staleReplays).
 */
export class ReplayGuard {
  private readonly replayed = new Set<string>();

  /** A command just read: remembered when it is a replay. */
  noteRead(command: SalesforceWrite, isReplay: boolean): void {
    if (isReplay) this.replayed.add(command.commandId);
  }

  /** The commands of a write split into those to write and the stale replays to drop (by command id). */
  async split(conn: () => Promise<Connection>, commands: SalesforceWrite[]): Promise<{ live: SalesforceWrite[]; stale: Set<string> }> {
    const replays = commands.filter((c) => this.replayed.has(c.commandId));
    const stale = replays.length > 0 ? await staleReplays(await conn(), replays) : new Set<string>();
    return { live: commands.filter((c) => !stale.has(c.commandId)), stale };
  }

  /** The commands were written (or dropped): a retry of the same write is checked again until then. */
  settled(commands: SalesforceWrite[]): void {
    for (const c of commands) this.replayed.delete(c.commandId);
  }
}
