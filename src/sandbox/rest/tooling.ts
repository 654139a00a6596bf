import { changeDataCaptureObjects } from '../admin/org-setup.ts';
import { changeEventName } from '../cdc/channels.ts';
import { SfError } from '../store/errors.ts';
import type { RestHandler } from './context.ts';

const CHANNEL_MEMBERS = /^\s*SELECT\s+([\w\s,]+?)\s+FROM\s+PlatformEventChannelMember\b(?:\s+WHERE\s+EventChannel\s*=\s*'([\w]+)')?\s*$/i;

/**
 * GET /tooling/query: the one Tooling API question a client asks of the org's set-up — which objects
 * are selected for Change Data Capture: `SELECT ... FROM PlatformEventChannelMember [WHERE
 * EventChannel = 'ChangeEvents']`, one record per selected object (SelectedEntity AccountChangeEvent,
 * DeveloperName ChangeEvents_AccountChangeEvent), as a real org answers. Other queries: INVALID_TYPE.
 */
export const toolingQuery: RestHandler = (ctx, { query }) => {
  const soql = query.q ?? '';
  const m = CHANNEL_MEMBERS.exec(soql);
  if (!m) throw new SfError('INVALID_TYPE', `the emulator's Tooling API answers only queries of PlatformEventChannelMember: ${soql}`, [], 400);
  const fields = m[1]!.split(',').map((f) => f.trim()).filter(Boolean);
  const channel = m[2];
  const members = channel && channel !== 'ChangeEvents' ? [] : changeDataCaptureObjects(ctx.deps.store).map((object) => changeEventName(object));
  const records = members.map((event, i) => {
    const all: Record<string, unknown> = {
      Id: `0v8${String(i + 1).padStart(15, '0')}`, DeveloperName: `ChangeEvents_${event}`, EventChannel: 'ChangeEvents', SelectedEntity: event, EnrichedFields: [],
    };
    const out: Record<string, unknown> = { attributes: { type: 'PlatformEventChannelMember', url: `/services/data/v${ctx.version}/tooling/sobjects/PlatformEventChannelMember/${all.Id}` } };
    for (const f of fields) {
      const key = Object.keys(all).find((k) => k.toLowerCase() === f.toLowerCase());
      if (!key) throw new SfError('INVALID_FIELD', `No such column '${f}' on entity 'PlatformEventChannelMember'.`, [], 400);
      out[key] = all[key];
    }
    return out;
  });
  return { status: 200, body: { size: records.length, totalSize: records.length, done: true, queryLocator: null, entityTypeName: 'PlatformEventChannelMember', records } };
};
