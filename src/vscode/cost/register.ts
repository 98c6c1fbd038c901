import * as vscode from 'vscode';
import { UsageLedger, type UsageRecord } from '../../core/cost/usageLedger';
import type { CommandRegistry } from '../commandRegistry';
import { affectsSetting, onConfigChange, readConfig, updateSetting } from '../config';
import { lazyModule } from '../lazyModule';
import type { LensDocuments } from '../tokenLens/lensDocuments';
import type { LensTokenizers } from '../tokenLens/lensTokenizers';
import { BlockCostDecorations } from './blockDecorations';

export interface CostServices {
  readonly log: vscode.LogOutputChannel;
  readonly commands: CommandRegistry;
  /** The Token lens' tokenizers (chosen one, reference model, prices) and its documents mirrored in the worker. */
  readonly tokenizers: LensTokenizers;
  readonly documents: LensDocuments;
}

export interface CostRegistration {
  /** Adds one request's usage to the usage ledger (completions, chat, explain). */
  readonly recordUsage: (record: UsageRecord) => void;
  /** Writes what was recorded and not yet written (deactivate). */
  readonly flush: () => Promise<void>;
}

/**
 * Cost beside the code and over time: the block and selection cost decorations
 * (`tokenscope.cost.showBlockCosts`, `tokenscope.toggleBlockCosts`), the usage ledger in the
 * extension's global storage that completions and chat record into, and the Usage & Cost panel
 * (`tokenscope.showUsage`, loaded from its own bundle on first use).
 */
export function registerCost(context: vscode.ExtensionContext, services: CostServices): CostRegistration {
  const { log, commands, tokenizers, documents } = services;
  const ledger = UsageLedger.inFolder(context.globalStorageUri.fsPath, { warn: (message) => log.warn(message) });
  const decorations = new BlockCostDecorations(tokenizers, documents, log);
  context.subscriptions.push(decorations, { dispose: () => void ledger.dispose().catch((error: unknown) => log.warn(String(error))) });
  context.subscriptions.push(
    onConfigChange((_config, event) => {
      if (affectsSetting(event, 'cost', 'tokenLens', 'model')) decorations.refresh();
    }),
  );
  commands.register('tokenscope.toggleBlockCosts', async () => {
    const show = !readConfig().cost.showBlockCosts;
    await updateSetting('cost.showBlockCosts', show);
    log.info(`Cost estimates beside the code ${show ? 'shown' : 'hidden'}`);
  });
  const panel = lazyModule<typeof import('./usagePanel')>(context.extensionPath, 'usagePanel');
  commands.register('tokenscope.showUsage', () => panel().showUsagePanel(ledger, tokenizers, log));
  decorations.refresh();
  return {
    flush: () => ledger.flush(),
    recordUsage: (record) => {
      try {
        ledger.record(record);
      } catch (error) {
        log.warn(`Usage ledger: ${error instanceof Error ? error.message : String(error)}`);
      }
    },
  };
}
