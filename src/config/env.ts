/**
 * ${VAR} and ${VAR:-default} references in configuration strings, replaced from the environment after
 * the file is parsed (so a value can never inject structure). A reference to an unset variable with no
 * default is an error naming the variable and the field. A value that substitutes to nothing is left out.
 */
export interface EnvIssue { path: string; message: string }

const REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export function substituteEnv(value: unknown, env: Record<string, string | undefined>, issues: EnvIssue[], path: string[] = []): unknown {
  if (typeof value === 'string') {
    const out = value.replace(REF, (_m, name: string, fallback: string | undefined) => {
      const v = env[name];
      if (v !== undefined && v !== '') return v;
      if (fallback !== undefined) return fallback;
      issues.push({ path: path.join('.'), message: `environment variable ${name} is not set` });
      return '';
    });
    // A value made only of references that all came out empty is absent (so optional fields stay unset).
    return out === '' && value !== '' ? undefined : out;
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, env, issues, [...path, String(i)]));
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).map(([k, v]) => [k, substituteEnv(v, env, issues, [...path, k])] as const);
    return Object.fromEntries(entries.filter(([, v]) => v !== undefined));
  }
  return value;
}

export function hasEnvReference(value: unknown): boolean {
  return typeof value === 'string' && /\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}/.test(value);
}
