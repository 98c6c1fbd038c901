import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import { compareModels, readModelsToCompare } from '../../core/models/comparison';
import type { CommandRegistry } from '../commandRegistry';
import { onConfigChange, readConfig } from '../config';
import { modelInfoHtml } from './modelInfoHtml';

/**
 * Tokenscope: Show Model Architecture. One editor tab with the configured model's numbers next to
 * real models'; it follows `tokenscope.model` while open. A broken model folder is reported on the
 * page (the built-in model and the references still show) rather than as an error dialog.
 */
export function registerModelInfo(context: vscode.ExtensionContext, deps: { readonly commands: CommandRegistry; readonly log: vscode.LogOutputChannel }): void {
  let panel: vscode.WebviewPanel | undefined;

  const render = async (target: vscode.WebviewPanel): Promise<void> => {
    const { locals, problem } = await readModelsToCompare({
      packageRoot: context.extensionPath,
      reference: readConfig().model,
      cwd: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath,
    });
    if (problem) deps.log.warn(`Show Model Architecture: ${problem}`);
    if (panel !== target) return; // closed or replaced while reading
    target.webview.html = modelInfoHtml({ comparison: compareModels(locals), problem, cspSource: target.webview.cspSource, nonce: randomBytes(16).toString('base64') });
  };

  deps.commands.register('tokenscope.showModelInfo', async () => {
    if (panel) {
      panel.reveal();
      await render(panel);
      return;
    }
    const created = vscode.window.createWebviewPanel('tokenscope.modelInfo', 'Model Architecture', vscode.ViewColumn.Active, {
      enableScripts: false,
      localResourceRoots: [],
    });
    panel = created;
    const followSettings = onConfigChange((_config, event) => {
      if (event.affectsConfiguration('tokenscope.model')) void render(created).catch((error: unknown) => deps.log.error(`Show Model Architecture: ${String(error)}`));
    });
    created.onDidDispose(() => {
      followSettings.dispose();
      if (panel === created) panel = undefined;
    });
    await render(created);
  });
  context.subscriptions.push({ dispose: () => panel?.dispose() });
}
