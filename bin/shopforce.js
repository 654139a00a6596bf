#!/usr/bin/env node
// Entry point: runs the TypeScript CLI through tsx's loader (no build step needed).
import { register } from 'tsx/esm/api';

// kafkajs warns once per producer about its v2 partitioner change; our keys were never partitioned by v1
process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';
register();
await import('../src/cli/main.ts');
