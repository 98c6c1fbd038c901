import type * as vscode from 'vscode';
import type { CommandRegistry } from '../commandRegistry';
import { lazyModule } from '../lazyModule';
import type { ModelService } from '../modelService';

/** What Show Prompt Tokens needs from the extension; activate() passes it to registerPromptTokens. */
export interface PromptTokensServices {
  readonly commands: CommandRegistry;
  readonly log: vscode.LogOutputChannel;
  readonly runtime: ModelService;
}

/**
 * Registers Tokenscope: Show Prompt Tokens (the chat view's title bar and the palette). The page
 * loads from dist/promptTokens.js when the command first runs, not at activation.
 */
export function registerPromptTokens(context: vscode.ExtensionContext, services: PromptTokensServices): void {
  const feature = lazyModule<typeof import('./promptTokensPanel')>(context.extensionPath, 'promptTokens');
  services.commands.register('tokenscope.showPromptTokens', () => feature().showPromptTokens(services));
}
