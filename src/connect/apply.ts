import { createLogger } from '../observability/logger.ts';
import { ConnectClient } from './client.ts';
import { loadConnectorFile } from './connector-file.ts';
import {
  ConnectorConfigError, ConnectorFailedError, ConnectorTimeoutError, type FieldProblem,
} from './errors.ts';
import { POSTGRES_CONNECTOR_CLASS, preflightPostgres } from './preflight.ts';
import type { ConnectorDefinition, ConnectorStatus, ValidationResult } from './types.ts';

const log = createLogger('connect.apply');

export interface ApplyOptions {
  connectUrl: string;
  /** How long to wait for the connector and all its tasks to be RUNNING (default 120 s). */
  timeoutMs?: number;
  /** Check the database directly before applying (Debezium PostgreSQL only; default true). */
  preflight?: boolean;
  /** Progress lines for a person (the CLI passes one that writes to stderr). */
  say?: (line: string) => void;
}

export interface ApplyResult {
  name: string;
  created: boolean;
  status: ConnectorStatus;
}

/** The validation answer as a list of bad fields (empty when the config is valid). */
export function problemsOf(validation: ValidationResult): FieldProblem[] {
  return validation.configs
    .filter((c) => (c.value?.errors.length ?? 0) > 0)
    .map((c) => ({ field: c.value!.name, value: redactValue(c.value!.name, c.value!.value), errors: c.value!.errors }));
}

/** Validates (Connect's plugin validation, then preflightPostgres), creates or updates, waits until RUNNING. */
export async function applyDefinition(definition: ConnectorDefinition, options: ApplyOptions): Promise<ApplyResult> {
  const say = options.say ?? (() => undefined);
  const client = new ConnectClient(options.connectUrl);
  const { name, config } = definition;
  const connectorClass = config['connector.class']!;

  say(`validating ${name} (${connectorClass})`);
  const validation = await client.validate(connectorClass, { ...config, name });
  const problems = problemsOf(validation);
  if (problems.length > 0) throw new ConnectorConfigError(name, problems);

  if (connectorClass === POSTGRES_CONNECTOR_CLASS && options.preflight !== false) {
    const check = await preflightPostgres(config);
    for (const w of check.warnings) say(`warning: ${w}`);
    if (check.problems.length > 0) throw new ConnectorConfigError(name, check.problems);
  }

  const { created } = await client.putConfig(name, config);
  say(`${created ? 'created' : 'updated'} ${name}; waiting until it runs`);
  log.info({ connector: name, created }, 'connector config applied');
  const status = await waitUntilRunning(client, name, options.timeoutMs ?? 120_000);
  say(`${name} RUNNING (${status.tasks.length} task${status.tasks.length === 1 ? '' : 's'})`);
  return { name, created, status };
}

/** applyDefinition for a connectors/*.json file whose ${PLACEHOLDERS} are filled from vars. */
export async function applyConnector(
  file: string,
  vars: Record<string, string | undefined>,
  options: ApplyOptions,
): Promise<ApplyResult> {
  return applyDefinition(await loadConnectorFile(file, vars), options);
}

/**
 * Polls the status until the connector and every task are RUNNING on two polls in a row (a task
 * can start and fail a moment later). A FAILED connector or task throws with Connect's trace.
 */
export async function waitUntilRunning(client: ConnectClient, name: string, timeoutMs: number): Promise<ConnectorStatus> {
  const deadline = Date.now() + timeoutMs;
  let lastState = 'not yet known to Kafka Connect';
  let runningPolls = 0;
  for (;;) {
    const status = await client.getStatus(name);
    if (status) {
      if (status.connector.state === 'FAILED') {
        throw new ConnectorFailedError(name, 'connector', status.connector.trace ?? '');
      }
      const failed = status.tasks.find((t) => t.state === 'FAILED');
      if (failed) throw new ConnectorFailedError(name, `task ${failed.id}`, failed.trace ?? '');
      lastState = describe(status);
      const running = status.connector.state === 'RUNNING' && status.tasks.length > 0
        && status.tasks.every((t) => t.state === 'RUNNING');
      runningPolls = running ? runningPolls + 1 : 0;
      if (runningPolls >= 2) return status;
    }
    if (Date.now() > deadline) throw new ConnectorTimeoutError(name, timeoutMs, lastState);
    await new Promise((r) => setTimeout(r, 500));
  }
}

export function describe(status: ConnectorStatus): string {
  const tasks = status.tasks.length === 0
    ? 'no tasks yet'
    : status.tasks.map((t) => `task ${t.id} ${t.state}`).join(', ');
  return `connector ${status.connector.state}, ${tasks}`;
}

function redactValue(field: string, value: string | null): string | null {
  return /password|secret/i.test(field) && value ? '***' : value;
}

/**
 * Deletes a connector. With forgetOffsets, first stops it and clears its stored source offsets,
 * so a connector created later under the same name starts afresh instead of resuming.
 */
export async function removeConnector(
  client: ConnectClient,
  name: string,
  options: { forgetOffsets?: boolean; timeoutMs?: number } = {},
): Promise<boolean> {
  if (!(await client.getStatus(name))) return false;
  if (options.forgetOffsets) {
    await client.stop(name);
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    for (;;) {
      const status = await client.getStatus(name);
      if (!status || (status.connector.state === 'STOPPED' && status.tasks.length === 0)) break;
      if (Date.now() > deadline) throw new ConnectorTimeoutError(name, options.timeoutMs ?? 30_000, describe(status));
      await new Promise((r) => setTimeout(r, 250));
    }
    await client.resetOffsets(name);
  }
  return client.deleteConnector(name);
}
