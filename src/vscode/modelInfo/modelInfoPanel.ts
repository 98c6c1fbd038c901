import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import { modelAnatomy } from '../../core/models/anatomy';
import { BUILTIN_MODELS, resolveModelReference } from '../../core/models/catalog';
import { compareModels, readLocalModelFacts, type LocalModelFacts } from '../../core/models/comparison';
import type { CommandRegistry } from '../commandRegistry';
import { onConfigChange, readConfig } from '../config';
import { modelLabel } from '../modelCommands';
import { modelInfoHtml } from './modelInfoHtml';

/**
 * Tokenscope: Show Model Architecture. One editor tab with the configured model's numbers next to
 * real models'; it follows `tokenscope.model` while open. A broken model folder is reported on the
 * page (the built-in model and the references still show) rather than as an error dialog.
 */
export function registerModelInfo(context: vscode.ExtensionContext, deps: { readonly commands: CommandRegistry; readonly log: vscode.LogOutputChannel }): void {
  let panel: vscode.WebviewPanel | undefined;

  const render = async (target: vscode.WebviewPanel): Promise<void> => {
    const configured = readConfig().model;
    const mini = resolveModelReference(BUILTIN_MODELS[0].id, { packageRoot: context.extensionPath });
    const locals: LocalModelFacts[] = [];
    let problem: string | undefined;
    let miniActive = true;
    if (configured !== mini.id) {
      try {
        const resolved = resolveModelReference(configured, { packageRoot: context.extensionPath, cwd: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath });
        const facts = await readLocalModelFacts(resolved.dir, { id: resolved.id, label: modelLabel(configured), builtin: false, active: true });
        modelAnatomy(facts.config, `${resolved.dir}/config.json`); // throws here, with the reason, if it is unusable
        locals.push(facts);
        miniActive = false;
      } catch (error) {
        problem = `The configured model (${configured}) cannot be shown: ${error instanceof Error ? error.message : String(error)}`;
        deps.log.warn(`Show Model Architecture: ${problem}`);
      }
    }
    locals.unshift(await readLocalModelFacts(mini.dir, { id: mini.id, label: 'tokenscope-mini', builtin: true, active: miniActive }));
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
