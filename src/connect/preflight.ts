import pg from 'pg';
import { createLogger } from '../observability/logger.ts';
import type { FieldProblem } from './errors.ts';
import type { ConnectorConfig } from './types.ts';

const log = createLogger('connect.preflight');

export const POSTGRES_CONNECTOR_CLASS = 'io.debezium.connector.postgresql.PostgresConnector';

export interface PreflightResult {
  /** False when the database could not be reached from here (e.g. a hostname only Connect resolves). */
  checked: boolean;
  problems: FieldProblem[];
  warnings: string[];
}

/**
 * Checks a Debezium PostgreSQL connector config against the database itself, for the mistakes
 * Debezium only reports later (or never): include-list entries matching no table, tables missing
 * from a pre-created publication, a role without SELECT or REPLICATION. Debezium treats each
 * include-list entry as a regular expression over `schema.table`; so do we.
 */
export async function preflightPostgres(config: ConnectorConfig): Promise<PreflightResult> {
  const result: PreflightResult = { checked: false, problems: [], warnings: [] };
  const client = new pg.Client({
    host: config['database.hostname'],
    port: Number(config['database.port'] ?? 5432),
    user: config['database.user'],
    password: config['database.password'],
    database: config['database.dbname'],
    connectionTimeoutMillis: 5_000,
  });
  try {
    await client.connect();
  } catch (err) {
    const e = err as Error & { code?: string };
    // 28P01 bad password, 28000 no such role / not allowed, 3D000 no such database
    if (e.code === '28P01' || e.code === '28000') {
      result.problems.push({ field: 'database.user', value: config['database.user'] ?? null, errors: [e.message] });
      result.checked = true;
    } else if (e.code === '3D000') {
      result.problems.push({ field: 'database.dbname', value: config['database.dbname'] ?? null, errors: [e.message] });
      result.checked = true;
    } else {
      result.warnings.push(`database not reachable from here (${e.message}); left the checks to Kafka Connect`);
    }
    await client.end().catch(() => undefined);
    return result;
  }
  result.checked = true;
  try {
    await checkRole(client, config, result);
    await checkTables(client, config, result);
  } finally {
    await client.end().catch(() => undefined);
  }
  for (const w of result.warnings) log.warn(w);
  return result;
}

async function checkRole(client: pg.Client, config: ConnectorConfig, result: PreflightResult): Promise<void> {
  const { rows } = await client.query<{ rolreplication: boolean; rolsuper: boolean }>(
    'SELECT rolreplication, rolsuper FROM pg_roles WHERE rolname = current_user',
  );
  const role = rows[0];
  if (role && !role.rolreplication && !role.rolsuper) {
    result.problems.push({
      field: 'database.user', value: config['database.user'] ?? null,
      errors: ['role lacks the REPLICATION attribute needed for logical decoding (ALTER ROLE ... REPLICATION)'],
    });
  }
}

async function checkTables(client: pg.Client, config: ConnectorConfig, result: PreflightResult): Promise<void> {
  const { rows: tables } = await client.query<{ id: string; selectable: boolean; identity: string }>(
    `SELECT n.nspname || '.' || c.relname AS id,
            has_table_privilege(c.oid, 'SELECT') AS selectable,
            c.relreplident::text AS identity
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
        AND n.nspname NOT LIKE 'pg_toast%'`,
  );
  const includeList = splitList(config['table.include.list']);
  const matched = new Set<string>();
  const unmatched: string[] = [];
  for (const entry of includeList) {
    let pattern: RegExp;
    try {
      pattern = new RegExp(`^(?:${entry})$`, 'i');
    } catch (err) {
      result.problems.push({ field: 'table.include.list', value: entry, errors: [`not a valid regular expression: ${(err as Error).message}`] });
      continue;
    }
    const hits = tables.filter((t) => pattern.test(t.id));
    if (hits.length === 0) unmatched.push(entry);
    for (const h of hits) matched.add(h.id);
  }
  if (unmatched.length > 0) {
    result.problems.push({
      field: 'table.include.list', value: config['table.include.list'] ?? null,
      errors: unmatched.map((e) => `${e} matches no table in database ${config['database.dbname']}`),
    });
  }
  const byId = new Map(tables.map((t) => [t.id, t]));
  const noSelect = [...matched].filter((id) => !byId.get(id)?.selectable);
  if (noSelect.length > 0) {
    result.problems.push({
      field: 'database.user', value: config['database.user'] ?? null,
      errors: [`role may not SELECT ${noSelect.join(', ')} (needed for the snapshot)`],
    });
  }
  const partialIdentity = [...matched].filter((id) => byId.get(id)?.identity !== 'f');
  if (partialIdentity.length > 0) {
    result.warnings.push(`REPLICA IDENTITY is not FULL on ${partialIdentity.join(', ')}: updates and deletes will carry no full before image`);
  }

  const mode = config['publication.autocreate.mode'] ?? 'all_tables';
  if (mode === 'disabled') {
    const publication = config['publication.name'] ?? 'dbz_publication';
    const { rows: pubs } = await client.query<{ puballtables: boolean }>(
      'SELECT puballtables FROM pg_publication WHERE pubname = $1', [publication],
    );
    if (pubs.length === 0) {
      result.problems.push({
        field: 'publication.name', value: publication,
        errors: [`publication does not exist in database ${config['database.dbname']} and publication.autocreate.mode is disabled (run the shop migrations)`],
      });
      return;
    }
    if (pubs[0]!.puballtables) return;
    const { rows: published } = await client.query<{ id: string }>(
      "SELECT schemaname || '.' || tablename AS id FROM pg_publication_tables WHERE pubname = $1", [publication],
    );
    const inPublication = new Set(published.map((r) => r.id));
    const missing = [...matched].filter((id) => !inPublication.has(id));
    if (missing.length > 0) {
      result.problems.push({
        field: 'publication.name', value: publication,
        errors: [`publication does not contain ${missing.join(', ')} (ALTER PUBLICATION ${publication} ADD TABLE ...)`],
      });
    }
  }
}

function splitList(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}
