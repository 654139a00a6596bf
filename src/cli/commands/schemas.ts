import type { Command } from 'commander';
import { loadCanonicalSchemas } from '../../avro/catalog.ts';
import { SchemaCatalogClient } from '../../avro/registry.ts';
import { createStackContext } from '../../stack/context.ts';
import { registryUrl } from '../../stack/components/registry.ts';

export function register(program: Command): void {
  const schemas = program.command('schemas').description('the canonical Avro schemas (schemas/*.avsc) and the registry');
  schemas
    .command('list')
    .description('each schema file with its topic and registry subject')
    .action(() => {
      for (const s of loadCanonicalSchemas()) process.stdout.write(`${s.name.padEnd(18)} ${s.topic.padEnd(22)} ${s.subject}\n`);
    });
  schemas
    .command('register')
    .description('register every schema (BACKWARD compatibility); fails on an incompatible change')
    .option('--registry <url>', 'Confluent-compatible registry URL (default: the local stack\'s)')
    .action(async (opts: { registry?: string }) => {
      const url = opts.registry ?? registryUrl(createStackContext({ quiet: true }));
      const ids = await new SchemaCatalogClient(url).registerAll(loadCanonicalSchemas());
      for (const [subject, id] of ids) process.stdout.write(`${subject} -> id ${id}\n`);
    });
}
