import type { Logger } from '../../observability/logger.ts';
import type { SchemaRegistry } from './avro-schemas.ts';
import type { ChannelDirectory } from './channels.ts';
import type { EventLog } from './event-log.ts';
import type { NewEvent, StoredEvent } from './stored-event.ts';

export type AppendListener = (events: StoredEvent[]) => void;

/** Named counters (calls, events delivered, ...) read by the admin API and benchmarks. */
export class Counters {
  private readonly values = new Map<string, number>();

  add(name: string, by = 1): void {
    this.values.set(name, (this.values.get(name) ?? 0) + by);
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.values);
  }
}

/** What the CometD and Pub/Sub front ends share: the log, the schemas, the channels, new-event news. */
export class EventBus {
  private readonly listeners = new Set<AppendListener>();

  constructor(
    readonly log: EventLog,
    readonly schemas: SchemaRegistry,
    readonly channels: ChannelDirectory,
    readonly counters: Counters,
    readonly logger: Logger,
  ) {}

  /** Persists events, then tells every front end; returns them with replay ids. */
  append(events: NewEvent[]): StoredEvent[] {
    const stored = this.log.append(events);
    if (stored.length === 0) return stored;
    this.counters.add('events.published', stored.length);
    for (const listener of this.listeners) {
      try {
        listener(stored);
      } catch (err) {
        this.logger.error({ err }, 'event listener failed');
      }
    }
    return stored;
  }

  onAppend(listener: AppendListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
