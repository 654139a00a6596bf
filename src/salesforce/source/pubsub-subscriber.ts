import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import tls from 'node:tls';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import type { Connection } from 'jsforce';
import type { SalesforceConfig } from '../auth/connection.ts';
import type { Logger } from '../../observability/logger.ts';
import { fromPubSub } from './decode-event.ts';
import type { ObjectFields } from './field-types.ts';
import { compileSchema, decodePayload, replayIdToBytes, replayIdToString, type EventSchemaType } from './pubsub-codec.ts';
import { SessionCheck } from './session-check.ts';
import type { StartAt, Subscriber, SubscriptionFailure, SubscriptionHandlers, Subscription } from './subscriber.ts';

/** Most events one FetchRequest may ask for. */
const MAX_REQUEST = 100;
const PRESET = { LATEST: 0, EARLIEST: 1, CUSTOM: 2 } as const;

interface FetchResponse {
  events?: { event?: { id?: string; schemaId?: string; payload?: Buffer }; replayId?: Buffer }[];
  latestReplayId?: Buffer;
  rpcId?: string;
}

type PubSubClient = grpc.Client & {
  Subscribe(metadata: grpc.Metadata): grpc.ClientDuplexStream<Record<string, unknown>, FetchResponse>;
  GetSchema(req: { schemaId: string }, metadata: grpc.Metadata, cb: (err: grpc.ServiceError | null, res?: { schemaJson: string; schemaId: string }) => void): void;
};

let pubSubCtor: (new (address: string, creds: grpc.ChannelCredentials) => PubSubClient) | undefined;

/** eventbus.v1.PubSub from the pubsub_api.proto that salesforce-pubsub-api-client ships (not copied here). */
function pubSubClientClass() {
  if (!pubSubCtor) {
    const require = createRequire(import.meta.url);
    const protoPath = path.join(path.dirname(require.resolve('salesforce-pubsub-api-client')), '..', 'pubsub_api.proto');
    const proto = grpc.loadPackageDefinition(protoLoader.loadSync(protoPath, {})) as any;
    pubSubCtor = proto.eventbus.v1.PubSub;
  }
  return pubSubCtor!;
}

interface GrpcError extends Error { code?: number; metadata?: grpc.Metadata }

function errorCode(err: GrpcError): string {
  return String(err.metadata?.get('error-code')?.[0] ?? '');
}

/**
 * grpc-js sends the target's host as the TLS server name (SNI), and an IP address there is not
 * allowed by RFC 6066: Node prints a DEP0123 deprecation warning on every connection
 * (grpc/grpc-node#1919). A loopback address (the local emulator, 127.0.0.1:58444) is dialled as
 * localhost instead, which its certificate names; real endpoints are host names already.
 */
export function dialTarget(endpoint: string): string {
  const m = /^(127(?:\.\d{1,3}){3}|\[::1\])(:\d+)$/.exec(endpoint);
  return m ? `localhost${m[2]}` : endpoint;
}

/**
 * Subscriptions through the Pub/Sub API over gRPC (@grpc/grpc-js with the proto shipped by
 * salesforce-pubsub-api-client). Written against the wire directly rather than through that
 * client because its close() leaves the stream open without listeners (a later server error
 * then crashes the process) and it decodes responses concurrently; here each subscription owns
 * its call, cancels it on close, decodes in order, and keeps replay ids as exact byte values.
 * Authentication: the jsforce connection's session (accesstoken, instanceurl, tenantid headers).
 */
export function createPubSubSubscriber(cfg: SalesforceConfig, conn: Connection, log: Logger, fieldsOf: (object: string) => ObjectFields | undefined): Subscriber {
  const roots = cfg.caCertPath ? Buffer.from([...tls.rootCertificates, readFileSync(cfg.caCertPath, 'utf8')].join('\n')) : null;
  const Ctor = pubSubClientClass();
  const client = new Ctor(dialTarget(cfg.source.pubsubEndpoint), grpc.credentials.createSsl(roots));
  const schemas = new Map<string, Promise<EventSchemaType>>();
  const session = new SessionCheck(conn, cfg.apiVersion, log);

  const metadata = () => {
    const md = new grpc.Metadata();
    const token = conn.accessToken ?? '';
    md.set('accesstoken', token);
    md.set('instanceurl', conn.instanceUrl);
    md.set('tenantid', conn.userInfo?.organizationId ?? token.split('!')[0]);
    return md;
  };

  const schema = (id: string): Promise<EventSchemaType> => {
    let p = schemas.get(id);
    if (!p) {
      p = new Promise((resolve, reject) => {
        client.GetSchema({ schemaId: id }, metadata(), (err, res) => (err || !res ? reject(err ?? new Error('empty GetSchema reply')) : resolve(compileSchema(id, res.schemaJson))));
      });
      p.catch(() => schemas.delete(id));
      schemas.set(id, p);
    }
    return p;
  };

  return {
    mode: 'pubsub',
    async subscribe(channel, object, startAt: StartAt, initialRequest, handlers: SubscriptionHandlers): Promise<Subscription> {
      await session.beforeSubscribe();
      const call = client.Subscribe(metadata());
      let dead = false;
      let chain: Promise<void> = Promise.resolve();
      const fail = (f: SubscriptionFailure) => {
        if (dead) return;
        if (f.kind !== 'parse') dead = true;
        handlers.onFailure(f);
      };
      call.on('data', (res: FetchResponse) => {
        // decode in arrival order even when a schema has to be fetched first
        chain = chain.then(async () => {
          if (dead) return;
          const events = res.events ?? [];
          if (events.length === 0) { handlers.onActivity(); return; }
          for (const e of events) {
            const replayId = e.replayId ? replayIdToString(e.replayId) : '';
            let payload: Record<string, unknown>;
            try {
              const s = await schema(e.event?.schemaId ?? '');
              payload = decodePayload(s, e.event?.payload ?? Buffer.alloc(0));
            } catch (err) {
              fail({ kind: 'parse', error: new Error(`change event ${replayId} on ${channel} could not be decoded: ${(err as Error).message}`, { cause: err }) });
              continue;
            }
            if (dead) return;
            try {
              handlers.onEvent(fromPubSub(channel, { replayId, payload }, fieldsOf(object)));
            } catch (err) {
              fail({ kind: 'parse', error: new Error(`change event ${replayId} on ${channel} is malformed: ${(err as Error).message}`, { cause: err }) });
            }
          }
        });
      });
      call.on('error', (err: GrpcError) => {
        const code = errorCode(err);
        if (err.code === grpc.status.UNAUTHENTICATED) session.markSuspect();
        const kind = err.code === grpc.status.INVALID_ARGUMENT && /replayid/i.test(code) ? 'invalid-replay' : 'stream';
        fail({ kind, error: new Error(`Pub/Sub subscription to ${channel} failed: ${err.message}${code ? ` (${code})` : ''}`, { cause: err }) });
      });
      call.on('end', () => fail({ kind: 'stream', error: new Error(`Pub/Sub subscription to ${channel} ended by the server`) }));

      const first: Record<string, unknown> = { topicName: channel, numRequested: Math.max(1, Math.min(MAX_REQUEST, initialRequest)), replayPreset: PRESET[startAt.preset] };
      if (startAt.preset === 'CUSTOM') first.replayId = replayIdToBytes(startAt.replayId);
      call.write(first);
      return {
        request(n) {
          if (dead || n <= 0) return;
          call.write({ topicName: channel, numRequested: Math.min(MAX_REQUEST, n) });
        },
        close() {
          dead = true;
          call.removeAllListeners();
          call.on('error', () => { /* the cancel itself */ });
          call.cancel();
        },
      };
    },
    close() {
      client.close();
    },
  };
}
