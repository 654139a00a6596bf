/** Shapes of the Kafka Connect REST API (Apache Kafka 3.x/4.x), as far as we use them. */

export type ConnectorConfig = Record<string, string>;

/** A Kafka Connect REST body: what connectors/*.json hold. */
export interface ConnectorDefinition {
  name: string;
  config: ConnectorConfig;
}

export type ConnectorState = 'UNASSIGNED' | 'RUNNING' | 'PAUSED' | 'STOPPED' | 'FAILED' | 'RESTARTING';

export interface ConnectorStatus {
  name: string;
  connector: { state: ConnectorState; worker_id: string; trace?: string };
  tasks: Array<{ id: number; state: ConnectorState; worker_id: string; trace?: string }>;
  type?: 'source' | 'sink';
}

export interface ConnectorInfo {
  name: string;
  config: ConnectorConfig;
  tasks: Array<{ connector: string; task: number }>;
  type?: 'source' | 'sink';
}

export interface ValidationConfigEntry {
  definition: { name: string; type: string; required: boolean; default_value: string | null; group: string | null };
  /** Null for some internal properties (Debezium 3.6 answers so for internal.* fields). */
  value: { name: string; value: string | null; recommended_values: string[]; errors: string[]; visible: boolean } | null;
}

export interface ValidationResult {
  name: string;
  error_count: number;
  groups: string[];
  configs: ValidationConfigEntry[];
}

export interface ConnectorPlugin {
  class: string;
  type: string;
  version?: string;
}
