import type { CliCommand } from './command';

/**
 * Every subcommand of the `tokenscope` CLI. Each feature adds its command here, implemented in its
 * own file next to this one.
 */
export const cliCommands: readonly CliCommand[] = [];
