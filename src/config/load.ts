import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import YAML from 'yaml';
import type { z } from 'zod';
import { configSchema, SECRET_PATHS, type ShopforceConfig } from './schema.ts';
import { hasEnvReference, substituteEnv, type EnvIssue } from './env.ts';

export interface ConfigIssue { path: string; message: string }

/** Invalid configuration: lists every bad field by its dotted path and the reason. */
export class ConfigError extends Error {
  constructor(readonly source: string, readonly issues: ConfigIssue[]) {
    super(`invalid configuration (${source}):\n${issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads a YAML or JSON file, substitutes ${ENV} references, validates; throws ConfigError. */
export function loadConfig(path: string, env: Record<string, string | undefined> = process.env): ShopforceConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, [{ path: '', message: `cannot read the file: ${(err as Error).message}` }]);
  }
  return parseConfigText(text, env, path);
}

export function parseConfigText(text: string, env: Record<string, string | undefined>, source = 'config'): ShopforceConfig {
  let raw: unknown;
  try {
    raw = extname(source) === '.json' ? JSON.parse(text) : YAML.parse(text, { prettyErrors: true });
  } catch (err) {
    throw new ConfigError(source, [{ path: '', message: `not valid ${extname(source) === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}` }]);
  }
  return parseConfig(raw ?? {}, env, source);
}

/** Validates an already-parsed configuration object. */
export function parseConfig(raw: unknown, env: Record<string, string | undefined>, source = 'config'): ShopforceConfig {
  const issues: ConfigIssue[] = [];
  for (const secret of SECRET_PATHS) {
    for (const [path, v] of valuesAt(raw, secret.split('.'))) {
      if (v !== undefined && !hasEnvReference(v)) {
        issues.push({ path, message: 'is a secret: give it as a ${VAR} reference to the environment, not in the file' });
      }
    }
  }
  const envIssues: EnvIssue[] = [];
  const substituted = substituteEnv(raw, env, envIssues);
  issues.push(...envIssues);
  const result = configSchema.safeParse(substituted);
  if (!result.success) {
    // A field whose variable is missing already has its issue; the schema's complaint about it is noise.
    const envPaths = new Set(envIssues.map((i) => i.path));
    issues.push(...result.error.issues.flatMap(toConfigIssues).filter((i) => !envPaths.has(i.path)));
  }
  if (issues.length > 0) throw new ConfigError(source, dedupe(issues));
  return (result as { data: ShopforceConfig }).data;
}

function toConfigIssues(issue: z.core.$ZodIssue): ConfigIssue[] {
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => ({ path: [...path, k].join('.'), message: 'unknown field' }));
  }
  if (issue.code === 'invalid_type' && /received undefined$/.test(issue.message)) {
    return [{ path: path.join('.'), message: `is required (${issue.expected})` }];
  }
  return [{ path: path.join('.'), message: issue.message.replace(/^Invalid input: /, '') }];
}

/** The values at a dotted path whose `*` segments stand for every key or index there, with their paths. */
function valuesAt(value: unknown, path: string[], at: string[] = []): Array<[string, unknown]> {
  if (path.length === 0) return [[at.join('.'), value]];
  if (!value || typeof value !== 'object') return [];
  const [head, ...rest] = path;
  const keys = head === '*' ? Object.keys(value) : [head!];
  return keys.flatMap((k) => valuesAt((value as Record<string, unknown>)[k], rest, [...at, k]));
}

function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = `${i.path}\u0000${i.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
