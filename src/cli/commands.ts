import type { CliCommand } from './command';
import { completeCommand } from './completeCommand';
import { generateCommand } from './generateCommand';

/**
 * Every subcommand of the `tokenscope` CLI. Each feature adds its command here, implemented in its
 * own file next to this one.
 */
export const cliCommands: readonly CliCommand[] = [
  completeCommand,
  generateCommand,
];
