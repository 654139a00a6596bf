import { readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import avro from 'avsc';
import { fileURLToPath } from 'node:url';

/** Topics whose values are not `sync.<file name>`. */
const TOPIC_OF_FILE: Record<string, string> = {
  salesforce_write: 'sync.out.salesforce',
  shop_write: 'sync.out.shop',
  dlq: 'sync.dlq',
  audit: 'sync.audit',
};

export interface CanonicalSchema {
  /** File name without .avsc, e.g. "order". */
  name: string;
  file: string;
  /** Topic whose values use this schema, e.g. "sync.order". */
  topic: string;
  /** Registry subject (TopicNameStrategy): "<topic>-value". */
  subject: string;
  /** The parsed JSON schema as written in the file. */
  schema: avro.Schema;
  /** avsc type, for local validation and sample values. */
  type: avro.Type;
}

export const SCHEMAS_DIR = fileURLToPath(new URL('../../schemas/', import.meta.url));

/** Every canonical schema in schemas/*.avsc; a file that is not valid Avro fails with its name. */
export function loadCanonicalSchemas(dir = SCHEMAS_DIR): CanonicalSchema[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.avsc'))
    .sort()
    .map((f) => {
      const file = join(dir, f);
      const name = basename(f, '.avsc');
      let schema: avro.Schema;
      let type: avro.Type;
      try {
        schema = JSON.parse(readFileSync(file, 'utf8'));
        type = avro.Type.forSchema(schema);
      } catch (err) {
        throw new Error(`schemas/${f} is not a valid Avro schema: ${(err as Error).message}`, { cause: err });
      }
      const topic = TOPIC_OF_FILE[name] ?? `sync.${name}`;
      return { name, file, topic, subject: `${topic}-value`, schema, type };
    });
}
