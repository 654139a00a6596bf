
/**
 * Names of the topics shopforce creates, optionally under a namespace (kafka.topicNamespace), so
 * two pipelines can share a cluster. Registry subjects stay the un-namespaced `<topic>-value`:
 * the schema of sync.order is one thing, whichever pipeline writes it.
 */
export interface TopicNames {
  routed(entity: string): string;       // sync.in.<entity>
  canonical(entity: string): string;    // sync.<entity>
  salesforceCommands: string;               // sync.out.salesforce
  shopCommands: string;                     // sync.out.shop
  audit: string;                            // sync.audit
  dlq: string;                              // sync.dlq
  sfCdcPrefix: string;                      // sf.cdc  (+ .<Object>)
  sfCheckpoints: string;                    // sf.source.checkpoints
  sfChannels: string;                       // sf.source.channels (a partition per channel: who reads it)
  sfImagePrefix: string;                    // sf.image (+ .<Object>)
  backfillCheckpoints: string;              // sync.backfill.checkpoints
  driftRuns: string;                        // sync.drift.runs
}

export function topicNames(namespace = ''): TopicNames {
  const ns = (name: string) => (namespace ? `${namespace}.${name}` : name);
  return {
    routed: (entity) => ns(`sync.in.${entity}`),
    canonical: (entity) => ns(`sync.${entity}`),
    salesforceCommands: ns('sync.out.salesforce'),
    shopCommands: ns('sync.out.shop'),
    audit: ns('sync.audit'),
    dlq: ns('sync.dlq'),
    sfCdcPrefix: ns('sf.cdc'),
    sfCheckpoints: ns('sf.source.checkpoints'),
    sfChannels: ns('sf.source.channels'),
    sfImagePrefix: ns('sf.image'),
    backfillCheckpoints: ns('sync.backfill.checkpoints'),
    driftRuns: ns('sync.drift.runs'),
  };
}

/** Registry subjects of the Avro topics (TopicNameStrategy on the un-namespaced names). */
export const SUBJECTS = {
  canonical: (entity: string) => `sync.${entity}-value`,
  salesforceCommands: 'sync.out.salesforce-value',
  shopCommands: 'sync.out.shop-value',
  audit: 'sync.audit-value',
} as const;
