import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { ConnectorDefinition } from './types.ts';

/**
 * Placeholders look like ${SHOP_PG_HOST}: upper-case letters, digits and underscores. Kafka Connect's
 * own config-provider references (${env:NAME}, ${file:/path:key}) contain a colon and are left alone.
 */
const PLACEHOLDER = /\$\{([A-Z][A-Z0-9_]*)\}/g;

const definitionSchema = z.object({
  name: z.string().min(1, 'connector name must not be empty').regex(/^[A-Za-z0-9._-]+$/, 'use letters, digits, dot, dash, underscore'),
  config: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
    .refine((c) => typeof c['connector.class'] === 'string' && c['connector.class'] !== '', {
      message: 'config must name its connector.class',
    }),
});

/** Names of the ${NAME} placeholders a connector definition uses. */
export function placeholdersOf(definition: ConnectorDefinition): string[] {
  const names = new Set<string>();
  for (const value of Object.values(definition.config)) {
    for (const m of value.matchAll(PLACEHOLDER)) names.add(m[1]!);
  }
  return [...names].sort();
}

/** Replaces every ${NAME} with vars[NAME]; throws listing all missing names at once. */
export function substitutePlaceholders(
  definition: ConnectorDefinition,
  vars: Record<string, string | undefined>,
  source = definition.name,
): ConnectorDefinition {
  const missing = placeholdersOf(definition).filter((n) => vars[n] === undefined);
  if (missing.length > 0) {
    throw new Error(`${source}: no value for placeholder${missing.length === 1 ? '' : 's'} ${missing.map((n) => `\${${n}}`).join(', ')} (set ${missing.length === 1 ? 'it' : 'them'} in the environment or with --var NAME=value)`);
  }
  const config = Object.fromEntries(
    Object.entries(definition.config).map(([k, v]) => [k, v.replace(PLACEHOLDER, (_, n: string) => vars[n]!)]),
  );
  return { name: definition.name, config };
}

/** Parses a Kafka Connect REST body ({name, config}); numbers and booleans become strings. */
export function parseConnectorDefinition(json: unknown, source: string): ConnectorDefinition {
  const parsed = definitionSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`${source} is not a connector definition: ${issues}`);
  }
  const config = Object.fromEntries(Object.entries(parsed.data.config).map(([k, v]) => [k, String(v)]));
  return { name: parsed.data.name, config };
}

/** Reads connectors/<file>.json and fills in its placeholders. */
export async function loadConnectorFile(file: string, vars: Record<string, string | undefined>): Promise<ConnectorDefinition> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read connector file ${file}: ${(err as Error).message}`, { cause: err });
  }
  return substitutePlaceholders(parseConnectorDefinition(json, file), vars, file);
}
