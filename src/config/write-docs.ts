/** Writes docs/configuration.md from the configuration schema: `node --import tsx src/config/write-docs.ts`. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderConfigDocs } from './docs.ts';

const target = resolve(dirname(fileURLToPath(import.meta.url)), '../../docs/configuration.md');
mkdirSync(dirname(target), { recursive: true });
writeFileSync(target, renderConfigDocs());
process.stdout.write(`wrote ${target}\n`);
