/**
 * What the chaos traffic did, change by change, on the side that masters it: what the other side must
 * end up holding. Only changes known to be committed are entered; a shop write whose COMMIT was cut
 * (a PostgreSQL restart) is checked afterwards, and a stock delta whose fate is unknown marks its key
 * as unknown (left out of the stock sum, and said so).
 */
export interface OrderEntry { order: string; customer: string; lines: number; total: number; phase: number }

export class Ledger {
  readonly customers: Array<{ customer: string; phase: number }> = [];
  readonly orders: OrderEntry[] = [];
  readonly payments: Array<{ txn: string; order: string; phase: number }> = [];
  readonly tickets: Array<{ ticket: string; phase: number }> = [];
  readonly invoices: Array<{ invoice: string; phase: number }> = [];
  /** Campaign members: segment code and customer number. */
  readonly members: Array<{ segment: string; customer: string; phase: number }> = [];
  /** The last price the org set per SKU. */
  readonly prices = new Map<string, { price: number; phase: number }>();
  /** Sum of the deltas per stock key (sku|warehouse), both sides. */
  readonly stockDeltas = new Map<string, { sum: number; phase: number }>();
  /** Stock keys with a delta of unknown fate. */
  readonly stockUnknown = new Set<string>();
  /** Changes made per phase (anything entered above). */
  readonly changesByPhase = new Map<number, number>();

  count(phase: number): void {
    this.changesByPhase.set(phase, (this.changesByPhase.get(phase) ?? 0) + 1);
  }

  stock(key: string, delta: number, phase: number): void {
    const cur = this.stockDeltas.get(key) ?? { sum: 0, phase };
    this.stockDeltas.set(key, { sum: cur.sum + delta, phase: cur.phase });
    this.count(phase);
  }
}
