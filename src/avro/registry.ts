import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import { InfraError } from '../kafka/errors.ts';
import type { CanonicalSchema } from './catalog.ts';

/** HTTP basic auth of the registry (registry.username, registry.password). */
export type RegistryAuth = { username: string; password: string };

/** The registry client for the configuration's `registry` section (URL and, when given, basic auth). */
export function registryClient(section: { url: string; username?: string; password?: string }): SchemaCatalogClient {
  const auth = section.username && section.password ? { username: section.username, password: section.password } : undefined;
  return new SchemaCatalogClient(section.url, auth);
}

export type Compatibility = 'BACKWARD' | 'BACKWARD_TRANSITIVE' | 'FORWARD' | 'FULL' | 'NONE';

/** The registry refused a schema (e.g. incompatible with the subject's previous version). */
export class SchemaRejectedError extends Error {
  constructor(readonly subject: string, readonly status: number | undefined, detail: string, options?: ErrorOptions) {
    super(`schema registry rejected a new version of ${subject}${status ? ` (HTTP ${status})` : ''}: ${detail}`, options);
    this.name = 'SchemaRejectedError';
  }
}

/**
 * Registers canonical schemas in a Confluent-compatible registry (Apicurio's ccompat API here)
 * with a compatibility level per subject, and encodes/decodes values in the Confluent wire format
 * (magic byte, 4-byte schema id, Avro binary).
 */
export class SchemaCatalogClient {
  readonly registry: SchemaRegistry;
  private readonly ids = new Map<string, number>();

  private readonly authorization?: string;

  constructor(readonly url: string, auth?: RegistryAuth) {
    this.registry = new SchemaRegistry({ host: url, auth });
    if (auth) this.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
  }

  /** Sets the subject's compatibility level (before its first version, so every version is checked). */
  async setCompatibility(subject: string, level: Compatibility): Promise<void> {
    const res = await fetch(`${this.url}/config/${encodeURIComponent(subject)}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json', ...(this.authorization ? { authorization: this.authorization } : {}) },
      body: JSON.stringify({ compatibility: level }),
    });
    if (res.status === 401 || res.status === 403) throw new Error(`the schema registry refused our credentials (HTTP ${res.status}): check registry.username and registry.password`);
    if (!res.ok) throw new Error(`could not set ${level} compatibility on ${subject}: HTTP ${res.status} ${await res.text()}`);
  }

  /** Registers one schema version under its subject; returns the schema id. */
  async register(schema: Pick<CanonicalSchema, 'subject' | 'schema'>, compatibility: Compatibility = 'BACKWARD'): Promise<number> {
    await this.setCompatibility(schema.subject, compatibility);
    try {
      const { id } = await this.registry.register(
        { type: SchemaType.AVRO, schema: JSON.stringify(schema.schema) },
        { subject: schema.subject },
      );
      this.ids.set(schema.subject, id);
      return id;
    } catch (err: any) {
      throw new SchemaRejectedError(schema.subject, err?.status, err?.message ?? String(err), { cause: err });
    }
  }

  /** Registers every schema; returns subject → id. */
  async registerAll(schemas: CanonicalSchema[], compatibility: Compatibility = 'BACKWARD'): Promise<Map<string, number>> {
    for (const schema of schemas) await this.register(schema, compatibility);
    return new Map(this.ids);
  }

  /** Encodes a value with the schema registered for the subject (register first). */
  async encode(subject: string, value: unknown): Promise<Buffer> {
    const id = this.ids.get(subject) ?? (await this.registry.getLatestSchemaId(subject));
    this.ids.set(subject, id);
    const type = this.writerTypes.get(id) ?? (await this.writerType(id));
    if (type) {
      try {
        return this.frame(type, id, value);
      } catch {
        // not a value of the schema: the library's encode says which fields are wrong
      }
    }
    return this.registry.encode(id, value);
  }

  /** Avro types by schema id, kept once fetched (null: the schema is not one avsc encodes here). */
  private readonly writerTypes = new Map<number, avro.Type | null>();
  /** Where values are encoded before they are copied out at their size (grows to the largest value). */
  private scratch = Buffer.allocUnsafe(16_384);

  private async writerType(id: number): Promise<avro.Type | null> {
    const schema = await this.registry.getSchema(id);
    const type = avro.Type.isType(schema) ? (schema as unknown as avro.Type) : null;
    this.writerTypes.set(id, type);
    return type;
  }

  /**
   * The Confluent frame (magic byte 0, the schema id, the Avro binary) of one value, the bytes the
   * library's encode makes, written once: its encode allocates zero-filled buffers, writes a value
   * larger than 1 KiB twice and copies the result into the frame (a few % of the reconciler's CPU).
   */
  private frame(type: avro.Type, id: number, value: unknown): Buffer {
    for (;;) {
      const end = type.encode(value, this.scratch, 5);
      if (end >= 0) {
        this.scratch[0] = 0;
        this.scratch.writeInt32BE(id, 1);
        return Buffer.from(this.scratch.subarray(0, end));
      }
      // end is minus the bytes missing
      this.scratch = Buffer.allocUnsafe(Math.max(this.scratch.length * 2, this.scratch.length - end));
    }
  }

  /** Decodes any Confluent-framed Avro value (fetches the writer schema by id, cached). */
  async decode<T = unknown>(buffer: Buffer): Promise<T> {
    // the writer schema first: a registry that does not answer is no fault of the record (the stage pauses);
    // a schema id it does not know (404) or bytes that are not Confluent-framed Avro are
    if (buffer.length >= 5 && buffer[0] === 0) {
      const id = buffer.readInt32BE(1);
      try {
        await this.registry.getSchema(id);
      } catch (err: any) {
        if (err?.status !== 404) throw new InfraError(`schema registry ${this.url}: could not fetch schema ${id}: ${err?.message ?? String(err)}`, { cause: err });
      }
    }
    return (await this.registry.decode(buffer)) as T;
  }
}
