import type { OrgModel } from '../model/types.ts';
import type { EventFilter } from './event-log.ts';

export const ALL_CHANGE_EVENTS = '/data/ChangeEvents';

/** Change event name of an sObject: Account → AccountChangeEvent, Foo__c → Foo__ChangeEvent. */
export function changeEventName(entity: string): string {
  return entity.endsWith('__c') ? `${entity.slice(0, -1)}ChangeEvent` : `${entity}ChangeEvent`;
}

export function changeEventChannel(entity: string): string {
  return `/data/${changeEventName(entity)}`;
}

export function isPlatformEventName(name: string): boolean {
  return name.endsWith('__e');
}

export function platformEventChannel(name: string): string {
  return `/event/${name}`;
}

/** The channels of an org: which entity each one carries, and what a reader of it filters on. */
export class ChannelDirectory {
  private readonly byChannel = new Map<string, { entity: string; filter: EventFilter }>();

  constructor(model: OrgModel) {
    for (const object of model.objects) {
      const channel = isPlatformEventName(object.name)
        ? platformEventChannel(object.name) : changeEventChannel(object.name);
      this.byChannel.set(channel, { entity: object.name, filter: { topic: channel } });
    }
  }

  /** The filter of a subscribable channel, or undefined when the org has no such channel. */
  filterFor(channel: string): EventFilter | undefined {
    if (channel === ALL_CHANGE_EVENTS) return { kind: 'cdc' };
    return this.byChannel.get(channel)?.filter;
  }

  entityOf(channel: string): string | undefined {
    return this.byChannel.get(channel)?.entity;
  }

  /** Whether an event on `topic` belongs to a subscription of `channel`. */
  static matches(channel: string, event: { kind: string; topic: string }): boolean {
    return channel === ALL_CHANGE_EVENTS ? event.kind === 'cdc' : channel === event.topic;
  }
}
