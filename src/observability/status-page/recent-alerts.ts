import type { RecentAlert } from './types.ts';

/** The latest reconcile alerts, at most `capacity`, for the status page; older ones fall off. */
export class RecentAlerts {
  private readonly kept: RecentAlert[] = [];

  constructor(private readonly capacity = 50) {}

  add(alert: Omit<RecentAlert, 'at'> & { at?: string }): void {
    this.kept.push({ ...alert, at: alert.at ?? new Date().toISOString() });
    if (this.kept.length > this.capacity) this.kept.shift();
  }

  /** Newest first. */
  latest(): RecentAlert[] {
    return [...this.kept].reverse();
  }
}
