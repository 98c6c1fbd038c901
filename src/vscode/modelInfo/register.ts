import type * as vscode from 'vscode';
import type { CommandRegistry } from '../commandRegistry';
import { lazyModule } from '../lazyModule';
import type { ModelInfoView } from './modelInfoView';

/**
 * Registers Tokenscope: Show Model Architecture. The page's code (the comparison, the reference
 * models, the HTML) loads from dist/modelInfo.js when the command first runs, not at activation.
 */
/** What Show Model Architecture needs from the extension; activate() passes it to registerModelInfo. */
export interface ModelInfoServices {
  readonly commands: CommandRegistry;
  readonly log: vscode.LogOutputChannel;
}

export function registerModelInfo(context: vscode.ExtensionContext, services: ModelInfoServices): void {
  const feature = lazyModule<typeof import('./modelInfoView')>(context.extensionPath, 'modelInfo');
  let view: ModelInfoView | undefined;
  services.commands.register('tokenscope.showModelInfo', () => (view ??= new (feature().ModelInfoView)(context, services.log)).show());
  context.subscriptions.push({ dispose: () => view?.dispose() });
}
