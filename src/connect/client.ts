import { createLogger } from '../observability/logger.ts';
import { ConnectRestError, ConnectUnreachableError } from './errors.ts';
import type {
  ConnectorConfig, ConnectorInfo, ConnectorPlugin, ConnectorStatus, ValidationResult,
} from './types.ts';

const log = createLogger('connect.client');

export interface ConnectClientOptions {
  /** Per-request timeout (default 30 s: validation connects to the database). */
  requestTimeoutMs?: number;
  /** Retries on 409 (rebalance in progress) and 5xx, with a growing pause (default 5). */
  retries?: number;
}

/** Thin client for the Kafka Connect REST API. */
export class ConnectClient {
  readonly baseUrl: string;
  private readonly requestTimeoutMs: number;
  private readonly retries: number;

  constructor(baseUrl: string, options: ConnectClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.retries = options.retries ?? 5;
  }

  /** Names of all connectors. */
  listConnectors(): Promise<string[]> {
    return this.request<string[]>('GET', '/connectors');
  }

  /** Status of every connector, by name. */
  async listStatuses(): Promise<Record<string, ConnectorStatus>> {
    const body = await this.request<Record<string, { status: ConnectorStatus }>>('GET', '/connectors?expand=status');
    return Object.fromEntries(Object.entries(body).map(([name, v]) => [name, v.status]));
  }

  getConnector(name: string): Promise<ConnectorInfo> {
    return this.request('GET', `/connectors/${encodeURIComponent(name)}`);
  }

  /** Status, or undefined when no connector has that name. */
  async getStatus(name: string): Promise<ConnectorStatus | undefined> {
    try {
      return await this.request<ConnectorStatus>('GET', `/connectors/${encodeURIComponent(name)}/status`);
    } catch (err) {
      if (err instanceof ConnectRestError && err.status === 404) return undefined;
      throw err;
    }
  }

  /** Creates the connector, or replaces the config of an existing one. */
  async putConfig(name: string, config: ConnectorConfig): Promise<{ created: boolean; info: ConnectorInfo }> {
    const { status, body } = await this.send<ConnectorInfo>('PUT', `/connectors/${encodeURIComponent(name)}/config`, config);
    return { created: status === 201, info: body };
  }

  /** Runs the plugin's own validation (Debezium also tries the database connection). */
  validate(connectorClass: string, config: ConnectorConfig): Promise<ValidationResult> {
    return this.request('PUT', `/connector-plugins/${encodeURIComponent(connectorClass)}/config/validate`, config);
  }

  /** Deletes the connector; false when it did not exist. */
  async deleteConnector(name: string): Promise<boolean> {
    try {
      await this.request('DELETE', `/connectors/${encodeURIComponent(name)}`);
      return true;
    } catch (err) {
      if (err instanceof ConnectRestError && err.status === 404) return false;
      throw err;
    }
  }

  /** Restarts the connector and (by default) its failed tasks. */
  async restart(name: string, options: { includeTasks?: boolean; onlyFailed?: boolean } = {}): Promise<void> {
    const query = new URLSearchParams({
      includeTasks: String(options.includeTasks ?? true),
      onlyFailed: String(options.onlyFailed ?? false),
    });
    await this.request('POST', `/connectors/${encodeURIComponent(name)}/restart?${query}`);
  }

  /** Stops the connector and its tasks but keeps its config (Kafka Connect 3.5+). */
  async stop(name: string): Promise<void> {
    await this.request('PUT', `/connectors/${encodeURIComponent(name)}/stop`);
  }

  /**
   * Forgets the connector's source offsets, so a connector created again under this name starts
   * afresh (Debezium: a new snapshot). The connector must be STOPPED first (Kafka Connect 3.6+).
   */
  async resetOffsets(name: string): Promise<void> {
    await this.request('DELETE', `/connectors/${encodeURIComponent(name)}/offsets`);
  }

  plugins(): Promise<ConnectorPlugin[]> {
    return this.request('GET', '/connector-plugins');
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    return (await this.send<T>(method, path, body)).body;
  }

  private async send<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const url = `${this.baseUrl}${path}`;
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await fetch(url, {
          method,
          headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(this.requestTimeoutMs),
        });
      } catch (err) {
        throw new ConnectUnreachableError(url, err);
      }
      const text = await res.text();
      if (res.ok) {
        return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
      }
      const retryable = res.status === 409 || res.status >= 500;
      if (retryable && attempt < this.retries) {
        log.debug({ method, path, status: res.status, attempt }, 'Kafka Connect busy, retrying');
        await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
        continue;
      }
      throw new ConnectRestError(method, url, res.status, messageOf(text));
    }
  }
}

function messageOf(text: string): string {
  try {
    const parsed = JSON.parse(text) as { message?: string };
    if (parsed.message) return parsed.message;
  } catch {
    // not JSON: fall through
  }
  return text.slice(0, 500) || '(empty response)';
}
