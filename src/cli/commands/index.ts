import type { Command } from 'commander';

/** Every CLI command module exports a register(program) function; list them here. */
export const commands: Array<(program: Command) => void> = [];
