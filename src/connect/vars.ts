import { resolvePorts } from '../stack/context.ts';

/** Placeholder values for connectors/shop-postgres.json, as seen from the Kafka Connect worker. */
export interface ShopConnectorVars {
  SHOP_PG_HOST: string;
  SHOP_PG_PORT: string;
  SHOP_PG_USER: string;
  SHOP_PG_PASSWORD: string;
  SHOP_PG_DATABASE: string;
  /** Replication factor of the shop.<schema>.<table> topics Debezium creates (1: the single local broker; 3 in production). */
  SHOP_TOPIC_REPLICATION_FACTOR: string;
  [name: string]: string;
}

/**
 * Values for the native stack (`shopforce stack up`): Connect runs on this machine, so the database
 * is 127.0.0.1 on the stack's port, reached as the `debezium` role. Any SHOP_PG_* variable in the
 * environment wins (docker-compose sets SHOP_PG_HOST=postgres, SHOP_PG_PORT=5432).
 */
export function connectorVarsFromEnv(env: NodeJS.ProcessEnv = process.env): ShopConnectorVars {
  const vars: ShopConnectorVars = {
    SHOP_PG_HOST: '127.0.0.1',
    SHOP_PG_PORT: String(resolvePorts(env).postgres),
    SHOP_PG_USER: 'debezium',
    SHOP_PG_PASSWORD: 'debezium',
    SHOP_PG_DATABASE: 'shop',
    SHOP_TOPIC_REPLICATION_FACTOR: '1',
  };
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith('SHOP_') && value !== undefined) vars[name] = value;
  }
  return vars;
}

/** The stack's Kafka Connect URL: SHOPFORCE_CONNECT_URL, else 127.0.0.1 on the stack's port. */
export function connectUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return env.SHOPFORCE_CONNECT_URL ?? `http://127.0.0.1:${resolvePorts(env).connect}`;
}
