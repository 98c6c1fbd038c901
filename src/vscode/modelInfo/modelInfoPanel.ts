import type * as vscode from 'vscode';
import type { CommandRegistry } from '../commandRegistry';
import { lazyModule } from '../lazyModule';
import type { ModelInfoView } from './modelInfoView';

/**
 * Registers Tokenscope: Show Model Architecture. The page's code (the comparison, the reference
 * models, the HTML) loads from dist/modelInfo.js when the command first runs, not at activation.
 */
export function registerModelInfo(context: vscode.ExtensionContext, deps: { readonly commands: CommandRegistry; readonly log: vscode.LogOutputChannel }): void {
  const feature = lazyModule<typeof import('./modelInfoView')>(context.extensionPath, 'modelInfo');
  let view: ModelInfoView | undefined;
  deps.commands.register('tokenscope.showModelInfo', () => (view ??= new (feature().ModelInfoView)(context, deps.log)).show());
  context.subscriptions.push({ dispose: () => view?.dispose() });
}
