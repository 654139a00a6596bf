import grpc from '@grpc/grpc-js';

/** Error codes Pub/Sub puts in the `error-code` trailer. */
export const PUBSUB_ERROR = {
  auth: 'sfdc.platform.eventbus.grpc.service.auth.error',
  replayIdCorrupted: 'sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted',
  replayIdValidation: 'sfdc.platform.eventbus.grpc.subscription.fetch.replayid.validation.failed',
  topicNotFound: 'sfdc.platform.eventbus.grpc.topic.not.found',
  topicChanged: 'sfdc.platform.eventbus.grpc.subscription.fetch.topic.change.not.allowed',
  schemaNotFound: 'sfdc.platform.eventbus.grpc.schema.not.found',
  publishNotAllowed: 'sfdc.platform.eventbus.grpc.publish.not.allowed',
  serviceUnavailable: 'sfdc.platform.eventbus.grpc.service.unavailable',
} as const;

export interface PubSubStatus {
  code: grpc.status;
  details: string;
  metadata: grpc.Metadata;
}

/** A gRPC status as Pub/Sub answers it: message ending in "rpcId: <id>", trailers error-code + rpc-id. */
export function pubSubStatus(code: grpc.status, errorCode: string, message: string, rpcId: string): PubSubStatus {
  const metadata = new grpc.Metadata();
  metadata.set('error-code', errorCode);
  metadata.set('rpc-id', rpcId);
  return { code, details: `${message} rpcId: ${rpcId}`, metadata };
}
