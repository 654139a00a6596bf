import type { Command } from 'commander';
import { register as stack } from './stack.ts';
import { register as kafka } from './kafka.ts';
import { register as schemas } from './schemas.ts';
import { register as migrate } from './migrate.ts';
import { register as seed } from './seed.ts';
import { register as connectors } from './connectors.ts';
import { register as sandbox } from './sandbox.ts';
import { register as run } from './run.ts';
import { register as dlq } from './dlq.ts';
import { register as status } from './status.ts';
import { register as backfill } from './backfill.ts';
import { register as drift } from './drift.ts';
import { register as trace } from './trace.ts';
import { register as org } from './org.ts';

/** Every CLI command module exports a register(program) function; list them here. */
export const commands: Array<(program: Command) => void> = [run, status, backfill, drift, trace, org, stack, sandbox, migrate, seed, connectors, dlq, kafka, schemas];
