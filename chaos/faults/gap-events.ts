import type { Fault } from './fault.ts';

/**
 * Salesforce lost change events: the price edits of the hold publish none, then a GAP_UPDATE names
 * every price book entry of the run, and a GAP_OVERFLOW the stock levels; `run` re-reads them.
 */
export const gapEvents: Fault = {
  name: 'gap-events',
  description: 'price-edit change events dropped for the hold, then a GAP_UPDATE of the entries; a GAP_OVERFLOW of the stock levels',
  holdMs: 15_000,
  async inject(w) { w.t.sb.admin.setFaults({ dropChangeEvents: { count: 1_000_000, object: 'PricebookEntry' } }); },
  async heal(w) {
    w.t.sb.admin.setFaults({ dropChangeEvents: null });
    const ids = (await w.sf.query<{ Id: string }>(`SELECT Id FROM PricebookEntry WHERE Product2.Sku__c LIKE '${w.run}-%'`).run({ autoFetch: true, maxFetch: 100_000 })).records.map((r) => r.Id);
    w.t.sb.admin.emitGap('PricebookEntry', ids, 'GAP_UPDATE');
    w.t.sb.admin.emitOverflow('Stock_Level__c');
  },
};
