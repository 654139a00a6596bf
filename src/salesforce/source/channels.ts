/** Change event channel of an sObject: Account → /data/AccountChangeEvent, Foo__c → /data/Foo__ChangeEvent. */
export function changeEventChannel(object: string): string {
  const name = object.endsWith('__c') ? `${object.slice(0, -1)}ChangeEvent` : `${object}ChangeEvent`;
  return `/data/${name}`;
}

/** Kafka topic of an object's raw change events / full images: `<prefix>.<Object>`. */
export function objectTopic(prefix: string, object: string): string {
  return `${prefix}.${object}`;
}
