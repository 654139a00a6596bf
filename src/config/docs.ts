import { z } from 'zod';
import { configSchema } from './schema.ts';

interface JsonSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  anyOf?: JsonSchema[];
}

interface Row { path: string; type: string; required: boolean; def: string; description: string }

/** A markdown table of every configuration field: dotted path, type, default, description. */
export function renderConfigDocs(): string {
  const root = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const rows: Row[] = [];
  walk(root, '', rows);
  const lines = [
    '# Configuration',
    '',
    'Generated from src/config/schema.ts by `node --import tsx src/config/write-docs.ts`; do not edit by hand.',
    '',
    'One YAML or JSON file (`shopforce run --config <file>`). Any string may reference the environment as `${VAR}` or',
    '`${VAR:-default}`; an unset variable without a default is an error naming it. Secrets (`shop.databaseUrl`,',
    '`kafka.sasl.password`, `registry.password`, `salesforce.clientSecret`, `salesforce.password`, ...) must be given',
    'that way. A secured Kafka cluster (TLS, SASL) and registry: docs/security.md. An invalid file fails at start with',
    'every bad field listed by its dotted path (e.g. `entities.customer.fields.0.canonical`). Example:',
    '`examples/shopforce.sandbox.yaml` (local sandbox), `examples/shopforce.production.yaml` (a real org).',
    '',
    '| field | type | required | default | description |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| \`${r.path}\` | ${r.type} | ${r.required ? 'yes' : ''} | ${r.def} | ${escape(r.description)} |`),
    '',
  ];
  return lines.join('\n');
}

function walk(s: JsonSchema, path: string, rows: Row[], required = false): void {
  if (path) rows.push({ path, type: typeOf(s), required: required && s.default === undefined, def: defaultOf(s), description: s.description ?? '' });
  if (s.properties) {
    for (const [k, child] of Object.entries(s.properties)) walk(child, path ? `${path}.${k}` : k, rows, s.required?.includes(k) ?? false);
  }
  if (s.items && s.items.properties) walk({ ...s.items, description: undefined }, `${path}[]`, rows, false);
}

function typeOf(s: JsonSchema): string {
  if (s.enum) return s.enum.map((e) => `\`${String(e)}\``).join(' \\| ');
  if (s.anyOf) return s.anyOf.map(typeOf).join(' \\| ');
  if (s.type === 'array') return `list of ${s.items ? typeOf(s.items) : 'any'}`;
  if (s.type === 'object' && s.additionalProperties && typeof s.additionalProperties === 'object') {
    return `map of ${typeOf(s.additionalProperties)}`;
  }
  const t = Array.isArray(s.type) ? s.type.join(' \\| ') : s.type ?? 'any';
  const min = s.minimum !== undefined && Math.abs(s.minimum) < Number.MAX_SAFE_INTEGER ? s.minimum : undefined;
  const max = s.maximum !== undefined && Math.abs(s.maximum) < Number.MAX_SAFE_INTEGER ? s.maximum : undefined;
  const range = min !== undefined || max !== undefined ? ` (${min ?? ''}..${max ?? ''})` : '';
  return t + range;
}

function defaultOf(s: JsonSchema): string {
  if (s.default === undefined) return '';
  if (s.type === 'object' && s.properties && typeof s.default === 'object' && s.default && Object.keys(s.default).length === 0) return '';
  const text = JSON.stringify(s.default);
  return `\`${text.length > 80 ? text.slice(0, 77) + '...' : text}\``.replace(/\|/g, '\\|');
}

function escape(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
