/** Kafka Connect answered with an error status. */
export class ConnectRestError extends Error {
  constructor(
    readonly method: string,
    readonly url: string,
    readonly status: number,
    readonly connectMessage: string,
  ) {
    super(`Kafka Connect ${method} ${url} failed with HTTP ${status}: ${connectMessage}`);
    this.name = 'ConnectRestError';
  }
}

/** Kafka Connect could not be reached at all. */
export class ConnectUnreachableError extends Error {
  constructor(readonly url: string, cause: unknown) {
    super(
      `Kafka Connect is not reachable at ${url}: ${(cause as Error)?.message ?? String(cause)}` +
      ' (is the stack up? `shopforce stack status`)',
      { cause },
    );
    this.name = 'ConnectUnreachableError';
  }
}

export interface FieldProblem {
  field: string;
  value: string | null;
  errors: string[];
}

/** The connector config was rejected by the plugin's validation (or our preflight checks). */
export class ConnectorConfigError extends Error {
  constructor(readonly connector: string, readonly problems: FieldProblem[]) {
    super(
      `connector ${connector}: ${problems.length} bad config field${problems.length === 1 ? '' : 's'}:\n` +
      problems.map((p) => `  - ${p.field}${p.value === null ? '' : ` = ${JSON.stringify(p.value)}`}: ${p.errors.join('; ')}`).join('\n'),
    );
    this.name = 'ConnectorConfigError';
  }
}

/** The connector or one of its tasks went to FAILED. `trace` is Connect's Java stack trace. */
export class ConnectorFailedError extends Error {
  constructor(readonly connector: string, readonly what: string, readonly trace: string) {
    super(`connector ${connector}: ${what} FAILED\n${indent(trace || '(Kafka Connect gave no trace)')}`);
    this.name = 'ConnectorFailedError';
  }
}

/** The connector did not reach RUNNING in time. */
export class ConnectorTimeoutError extends Error {
  constructor(readonly connector: string, readonly timeoutMs: number, readonly lastState: string) {
    super(`connector ${connector} not RUNNING after ${timeoutMs} ms (last state: ${lastState})`);
    this.name = 'ConnectorTimeoutError';
  }
}

function indent(text: string): string {
  return text.split('\n').map((l) => `    ${l}`).join('\n');
}
