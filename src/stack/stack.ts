import { mkdirSync } from 'node:fs';
import type { ComponentStatus, StackComponent, StackContext } from './component.ts';
import { postgres, postgresAdminUrl, postgresAppUrl } from './components/postgres.ts';
import { kafka, kafkaBootstrap } from './components/kafka.ts';
import { connect, connectUrl } from './components/connect.ts';
import { registry, registryUrl } from './components/registry.ts';
import { prometheus } from './components/prometheus.ts';
import { bootstrapShop } from '../shop/bootstrap.ts';
import { applyConnector } from '../connect/apply.ts';
import { connectorVarsFromEnv } from '../connect/vars.ts';
import { join } from 'node:path';
import { loadCanonicalSchemas } from '../avro/catalog.ts';
import { SchemaCatalogClient } from '../avro/registry.ts';

/** Start order; stop runs in reverse. Connect and the registry need Kafka (and PostgreSQL). */
export const STACK_COMPONENTS: StackComponent[] = [postgres, kafka, registry, connect];

/** Started only when asked (`stack up --monitoring`); status, logs and down include them when they run. */
export const OPTIONAL_COMPONENTS: StackComponent[] = [prometheus];

/** Every component `stack logs` knows. */
export const ALL_COMPONENTS: StackComponent[] = [...STACK_COMPONENTS, ...OPTIONAL_COMPONENTS];

export interface StackAddresses {
  postgres: { url: string; adminUrl: string };
  kafka: { brokers: string[] };
  registry: { url: string };
  connect: { url: string };
}

export interface StackStatus {
  stateDir: string;
  healthy: boolean;
  components: ComponentStatus[];
  addresses: StackAddresses;
}

export function stackAddresses(ctx: StackContext): StackAddresses {
  return {
    postgres: { url: postgresAppUrl(ctx), adminUrl: postgresAdminUrl(ctx) },
    kafka: { brokers: [kafkaBootstrap(ctx)] },
    registry: { url: registryUrl(ctx) },
    connect: { url: connectUrl(ctx) },
  };
}

/**
 * Starts every component that is not already healthy, in order. Idempotent: a healthy running
 * stack is reused as it is. Prerequisites of all components are checked (and artifacts fetched)
 * before anything starts, so a missing tool fails fast. The shop database is bootstrapped (roles,
 * migrations, grants) as soon as PostgreSQL answers.
 */
export async function stackUp(ctx: StackContext, components = STACK_COMPONENTS): Promise<StackStatus> {
  mkdirSync(ctx.stateDir, { recursive: true });
  for (const component of components) await component.prepare(ctx);
  for (const component of components) {
    const started = Date.now();
    if (await component.health(ctx)) {
      ctx.say(`${component.name}: already running`);
    } else {
      ctx.say(`${component.name}: starting`);
      await component.start(ctx);
      ctx.say(`${component.name}: healthy after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
    if (component === postgres) {
      // the shop database, its roles and migrations, before Debezium or anything else reads it
      const result = await bootstrapShop(postgresAdminUrl(ctx));
      if (result.applied.length) ctx.say(`postgres: applied migrations ${result.applied.join(', ')}`);
    }
  }
  if (components.includes(registry)) {
    // canonical schemas registered with BACKWARD compatibility: a breaking edit fails here, loudly
    const ids = await new SchemaCatalogClient(registryUrl(ctx)).registerAll(loadCanonicalSchemas());
    ctx.say(`registry: ${ids.size} canonical schemas registered (BACKWARD compatibility)`);
  }
  if (components.includes(connect)) {
    // CDC on: the Debezium connector for the shop tables, created or updated, then RUNNING
    await applyConnector(join(ctx.repoDir, SHOP_CONNECTOR_FILE), connectorVarsFromEnv(), { connectUrl: connectUrl(ctx), say: (l) => ctx.say(`connect: ${l}`) });
  }
  return stackStatus(ctx, components);
}

export const SHOP_CONNECTOR_FILE = 'connectors/shop-postgres.json';

export async function stackDown(ctx: StackContext, components = STACK_COMPONENTS): Promise<void> {
  // an optional component that runs (Prometheus) goes first: it watches the others
  for (const component of OPTIONAL_COMPONENTS) {
    if ((await component.status(ctx)).pid === undefined) continue;
    await component.stop(ctx);
    ctx.say(`${component.name}: stopped`);
  }
  for (const component of [...components].reverse()) {
    await component.stop(ctx);
    ctx.say(`${component.name}: stopped`);
  }
}

export async function stackStatus(ctx: StackContext, components = STACK_COMPONENTS): Promise<StackStatus> {
  const statuses = await Promise.all(components.map((c) => c.status(ctx)));
  // optional components are listed when they run, and do not make the stack unhealthy otherwise
  const optional = (await Promise.all(OPTIONAL_COMPONENTS.filter((c) => !components.includes(c)).map((c) => c.status(ctx)))).filter((s) => s.pid !== undefined);
  return { stateDir: ctx.stateDir, healthy: statuses.every((s) => s.healthy), components: [...statuses, ...optional], addresses: stackAddresses(ctx) };
}
