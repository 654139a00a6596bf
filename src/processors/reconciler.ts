import type { ShopforceConfig } from '../config/schema.ts';
import { createEntityMappings } from '../entities/registry.ts';
import type { AnyEntityMapping } from '../entities/entity.ts';
import type { CanonicalChange, EntityName } from '../entities/types.ts';
import { flowSpecs, type FlowSpec, type Parts } from '../flows/flow-spec.ts';
import type { RoutedChange } from '../flows/routed-change.ts';
import { SUBJECTS, topicNames } from '../flows/topic-names.ts';
import { PoisonRecordError } from '../kafka/errors.ts';
import type { Output, RecordContext } from '../kafka/types.ts';
import { decisionAuditEvent } from '../reconcile/audit.ts';
import { commandsFor } from '../reconcile/commands.ts';
import { decide } from '../reconcile/decide.ts';
import { policyFromConfig } from '../reconcile/policy.ts';
import type { KeyState, Policy } from '../reconcile/types.ts';

/** What the reconciler keeps per entity key: the reconcile state and the latest image of each part. */
export interface EntityState {
  rec: KeyState | null;
  shop: Parts;
  salesforce: Parts;
}

/** Encodes a value with the latest schema of a registry subject (Avro, Confluent framing). */
export type Encode = (subject: string, value: unknown) => Promise<Buffer>;

interface EntityRuntime { spec: FlowSpec; mapping: AnyEntityMapping; policy: Policy }

/**
 * Normalize + reconcile, per entity key. A routed raw change updates the kept images of its side;
 * the mapping turns the assembled images into the full canonical record (published on
 * sync.<entity>); decide() (DESIGN §4) says duplicate / echo / apply / conflict / noop; the planned
 * writes become commands on sync.out.salesforce and sync.out.shop, and the decision goes to
 * sync.audit. Both steps run here because the canonical record is built from the images and the
 * previous record that only this key's state holds.
 */
export function createReconciler(config: ShopforceConfig, encode: Encode, onAlert: (entity: string, message: string) => void = () => {}) {
  const names = topicNames(config.kafka.topicNamespace);
  const mappings = createEntityMappings(config);
  // changeOrigin of our own Salesforce writes: com/salesforce/api/rest/<v>;client=<callOptionsClient>
  const ourWrite = (origin: string | null) => !!origin && origin.includes(`client=${config.salesforce.callOptionsClient}`);
  const specs = flowSpecs(config);
  const runtimes = new Map<EntityName, EntityRuntime>();
  for (const [entity, spec] of Object.entries(specs) as Array<[EntityName, FlowSpec]>) {
    const mapping = mappings[entity];
    if (!mapping) continue;
    runtimes.set(entity, { spec, mapping, policy: policyFromConfig(entity, config.entities[entity], config.reconcile) });
  }

  return {
    topics: [...runtimes.keys()].map(names.routed),
    async handle(ctx: RecordContext<unknown, EntityState>): Promise<Output[]> {
      const msg = ctx.value as RoutedChange;
      const rt = runtimes.get(msg.entity);
      if (!rt) throw new PoisonRecordError(`no enabled flow for entity ${msg.entity}`);
      ctx.setSourceTime(msg.eventTime);
      const state: EntityState = ctx.state.get(msg.key) ?? { rec: null, shop: {}, salesforce: {} };

      const shopSide = msg.origin === 'SHOP';
      const sideSpec = shopSide ? rt.spec.shop : rt.spec.salesforce;
      const partSpec = sideSpec[msg.part];
      if (!partSpec) throw new PoisonRecordError(`${msg.part} is not a part of ${msg.entity}`);
      const parts: Parts = { ...(shopSide ? state.shop : state.salesforce) };
      if (partSpec.many) {
        const images = { ...((parts[partSpec.as] as Record<string, Record<string, unknown>>) ?? {}) };
        if (msg.op === 'DELETE') delete images[msg.recordId];
        else images[msg.recordId] = msg.image!;
        parts[partSpec.as] = images;
      } else {
        parts[partSpec.as] = msg.op === 'DELETE' ? null : msg.image;
      }
      const isMain = Object.keys(sideSpec)[0] === msg.part;
      const op = isMain && msg.op === 'DELETE' ? 'DELETE' : 'UPSERT';
      const next: EntityState = { ...state, [shopSide ? 'shop' : 'salesforce']: parts };

      const input = shopSide ? rt.spec.shopInput(parts) : rt.spec.salesforceInput(parts);
      if (op === 'UPSERT' && !input) {
        // a child before its parent (a line before its order): keep it until the main part arrives
        ctx.state.set(msg.key, next);
        return [];
      }
      const previousSame = (shopSide ? state.rec?.lastFromShop?.record : state.rec?.lastFromSalesforce?.record) ?? null;
      // what an image does not hold (a shop-only field, the status behind an ambiguous stage) comes
      // from the last agreed record; only the fields the images at hand carry are compared
      const previous = (state.rec?.base as typeof previousSame) ?? previousSame;
      const record = op === 'DELETE'
        ? previousSame
        : shopSide ? rt.mapping.fromShopRow(input, previous) : rt.mapping.fromSalesforce(input, previous);
      let knownFields = op === 'DELETE' ? [] : shopSide ? rt.mapping.knownFromShop(input, null) : rt.mapping.knownFromSalesforce(input, null);
      if (!shopSide && op === 'UPSERT' && ourWrite(msg.changeOrigin)) {
        // our own writes come back one record at a time: a list made of several records (the line
        // items of an order) is incomplete until the last one arrives, so it is not compared
        const partial = Object.values(sideSpec).filter((p) => p.many && p.field).map((p) => p.field!);
        knownFields = knownFields.filter((f) => !partial.includes(f));
        if (knownFields.length === 0) {
          ctx.state.set(msg.key, next);
          return [];
        }
      }
      const change: CanonicalChange = {
        shopId: config.shopId, entity: msg.entity, key: msg.key, origin: msg.origin, sourcePosition: msg.sourcePosition,
        transactionId: msg.transactionId, eventTime: msg.eventTime, op, sourceRecordId: msg.recordId,
        sourceVersion: msg.sourceVersion, changeOrigin: msg.changeOrigin, record, knownFields,
      };
      const lastBySide = { SHOP: state.rec?.lastFromShop?.record ?? null, SALESFORCE: state.rec?.lastFromSalesforce?.record ?? null };
      const result = decide(state.rec, msg.key, change, rt.policy);
      const commands = commandsFor(rt.mapping, change, result.writes, lastBySide);
      ctx.state.set(msg.key, { ...next, rec: result.newState });

      for (const alert of result.alerts) {
        ctx.log.warn({ entity: msg.entity, key: msg.key, kind: alert.kind, fields: alert.fields }, alert.message);
        onAlert(msg.entity, alert.kind);
      }
      const outputs: Output[] = [];
      if (result.decision !== 'duplicate') outputs.push({ topic: names.canonical(msg.entity), key: msg.key, value: await encode(SUBJECTS.canonical(msg.entity), change) });
      for (const cmd of commands.salesforce) outputs.push({ topic: names.salesforceCommands, key: msg.key, value: await encode(SUBJECTS.salesforceCommands, cmd) });
      for (const cmd of commands.shop) outputs.push({ topic: names.shopCommands, key: msg.key, value: await encode(SUBJECTS.shopCommands, cmd) });
      const audit = decisionAuditEvent(result.audit, { shopId: config.shopId, entity: msg.entity, processor: 'reconciler', at: Date.now() });
      outputs.push({ topic: names.audit, key: msg.key, value: await encode(SUBJECTS.audit, audit) });
      return outputs;
    },
  };
}
