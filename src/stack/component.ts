/**
 * A part of the local stack (PostgreSQL, Kafka, Kafka Connect, the schema registry, the
 * Salesforce sandbox). Each runs as a plain local process under the stack's state folder.
 */
export interface StackContext {
  /** State folder, e.g. <repo>/.stack: data, logs and pid files of the running stack. */
  stateDir: string;
  /** Artifact cache shared across clones, e.g. ~/.cache/shopforce (Maven output, downloads). */
  cacheDir: string;
  /** Repository root (where connectors/, schemas/, stack/ live). */
  repoDir: string;
  ports: StackPorts;
  /** Progress and warnings for the person running the command. */
  say(line: string): void;
}

export interface StackPorts {
  postgres: number;
  kafka: number;
  kafkaController: number;
  connect: number;
  registry: number;
  sandbox: number;
  sandboxPubSub: number;
  /** Prometheus of `stack up --monitoring`. */
  prometheus: number;
}

export interface ComponentStatus {
  name: string;
  port: number;
  healthy: boolean;
  pid?: number;
  /** Main address a client uses (URL or host:port). */
  address: string;
  detail?: string;
}

export interface StackComponent {
  readonly name: string;
  /** Checks prerequisites and fetches artifacts; throws PrerequisiteError with how to fix it. */
  prepare(ctx: StackContext): Promise<void>;
  /** Starts the process (only called when not already healthy) and waits until healthy. */
  start(ctx: StackContext): Promise<void>;
  health(ctx: StackContext): Promise<boolean>;
  status(ctx: StackContext): Promise<ComponentStatus>;
  stop(ctx: StackContext): Promise<void>;
  logFile(ctx: StackContext): string;
}

/** A missing tool, a taken port, a refused download: says what is missing and how to install it. */
export class PrerequisiteError extends Error {
  constructor(message: string, readonly hint: string) {
    super(`${message}\n  how to fix: ${hint}`);
    this.name = 'PrerequisiteError';
  }
}
