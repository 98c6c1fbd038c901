import type { CliCommand } from './command';
import { completeCommand } from './completeCommand';
import { costCommand } from './costCommand';
import { generateCommand } from './generateCommand';
import { attentionCommand, lensCommand, neighboursCommand } from './inspectCommands';
import { modelInfoCommand } from './modelInfoCommand';
import { modelsCommand } from './modelsCommand';
import { nextCommand } from './nextCommand';
import { surpriseCommand } from './surpriseCommand';
import { pullCommand } from './pullCommand';
import { samplesCommand } from './samplesCommand';
import { serveCommand } from './serveCommand';
import { tokenizeCommand } from './tokenizeCommand';
import { usageCommand } from './usageCommand';

/**
 * Every subcommand of the `tokenscope` CLI. Each feature adds its command here, implemented in its
 * own file next to this one.
 */
export const cliCommands: readonly CliCommand[] = [
  completeCommand,
  generateCommand,
  tokenizeCommand,
  costCommand,
  nextCommand,
  surpriseCommand,
  usageCommand,
  modelInfoCommand,
  attentionCommand,
  lensCommand,
  neighboursCommand,
  pullCommand,
  modelsCommand,
  serveCommand,
  samplesCommand,
];
