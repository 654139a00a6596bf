import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { GenericContainer, Network, Wait, type StartedNetwork, type StartedTestContainer } from 'testcontainers';
import { loadCanonicalSchemas } from '../avro/catalog.ts';
import { SchemaCatalogClient } from '../avro/registry.ts';
import { applyConnector } from '../connect/apply.ts';
import { connectorVarsFromEnv } from '../connect/vars.ts';
import { bootstrapShop } from '../shop/bootstrap.ts';
import { REPO_DIR, resolvePorts } from './context.ts';
import { REGISTRY_API_PATH } from './components/registry.ts';
import type { StackAddresses } from './stack.ts';

/**
 * A second stack provider for machines with Docker (SHOPFORCE_STACK_PROVIDER=testcontainers):
 * the same images as docker-compose.yml (read from it, so the two cannot drift), started by
 * testcontainers on the native stack's host ports. The native provider stays the default.
 */
export interface ContainerStack {
  addresses: StackAddresses;
  stop(): Promise<void>;
}

interface ComposeService {
  image?: string;
  command?: string[];
  environment?: Record<string, string | number>;
}

function composeServices(): Record<string, ComposeService> {
  const compose = parse(readFileSync(join(REPO_DIR, 'docker-compose.yml'), 'utf8'), { merge: true });
  return compose.services;
}

const envOf = (svc: ComposeService) => Object.fromEntries(Object.entries(svc.environment ?? {}).map(([k, v]) => [k, String(v)]));

export async function startContainerStack(): Promise<ContainerStack> {
  const services = composeServices();
  const ports = resolvePorts();
  const network: StartedNetwork = await new Network().start();
  const started: StartedTestContainer[] = [];
  const run = async (name: string, build: (c: GenericContainer) => GenericContainer) => {
    const image = services[name]?.image;
    if (!image) throw new Error(`docker-compose.yml has no image for service ${name}`);
    const container = await build(new GenericContainer(image).withNetwork(network).withNetworkAliases(name)).start();
    started.push(container);
    return container;
  };

  try {
    await run('postgres', (c) => c
      .withCommand(services.postgres!.command!)
      .withEnvironment(envOf(services.postgres!))
      .withCopyFilesToContainer([{ source: join(REPO_DIR, 'stack/compose/postgres-init.sql'), target: '/docker-entrypoint-initdb.d/10-registry.sql' }])
      .withExposedPorts({ container: 5432, host: ports.postgres })
      .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2)));
    const adminUrl = `postgres://postgres:postgres@127.0.0.1:${ports.postgres}/shop`;
    await bootstrapShop(adminUrl);

    await run('kafka', (c) => c
      .withEnvironment(envOf(services.kafka!))
      .withExposedPorts({ container: 59092, host: ports.kafka })
      .withWaitStrategy(Wait.forLogMessage(/Kafka Server started|Transition from STARTING to STARTED/)));
    await run('registry', (c) => c
      .withEnvironment(envOf(services.registry!))
      .withExposedPorts({ container: 8080, host: ports.registry })
      .withWaitStrategy(Wait.forHttp('/health/ready', 8080)));
    await run('connect', (c) => c
      .withEnvironment(envOf(services.connect!))
      .withExposedPorts({ container: 8083, host: ports.connect })
      .withWaitStrategy(Wait.forHttp('/connector-plugins', 8083).withStartupTimeout(180_000)));

    const addresses: StackAddresses = {
      postgres: { url: `postgres://shopforce:shopforce@127.0.0.1:${ports.postgres}/shop`, adminUrl },
      kafka: { brokers: [`127.0.0.1:${ports.kafka}`] },
      registry: { url: `http://127.0.0.1:${ports.registry}${REGISTRY_API_PATH}` },
      connect: { url: `http://127.0.0.1:${ports.connect}` },
    };
    await new SchemaCatalogClient(addresses.registry.url).registerAll(loadCanonicalSchemas());
    // Connect reaches PostgreSQL by its network alias, as in docker-compose.yml
    await applyConnector(join(REPO_DIR, 'connectors/shop-postgres.json'), { ...connectorVarsFromEnv(), SHOP_PG_HOST: 'postgres', SHOP_PG_PORT: '5432' }, { connectUrl: addresses.connect.url, preflight: false });
    return {
      addresses,
      async stop() {
        for (const c of started.reverse()) await c.stop();
        await network.stop();
      },
    };
  } catch (err) {
    for (const c of started.reverse()) await c.stop().catch(() => {});
    await network.stop().catch(() => {});
    throw err;
  }
}
