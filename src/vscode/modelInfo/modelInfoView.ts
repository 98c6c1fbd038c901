import * as vscode from 'vscode';
import { compareModels, readModelsToCompare } from '../../core/models/comparison';
import { modelInfoHtml } from '../../core/models/modelInfoHtml';
import { newNonce } from '../../core/webview/nonce';
import { affectsSetting, onConfigChange, readConfig } from '../config';

/**
 * Tokenscope: Show Model Architecture. One editor tab with the configured model's numbers next to
 * real models'; it follows `tokenscope.model` while open. A broken model folder is reported on the
 * page (the built-in model and the references still show) rather than as an error dialog. Loaded on
 * first use from its own bundle (dist/modelInfo.js, see register.ts).
 */
export class ModelInfoView implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  async show(): Promise<void> {
    if (this.panel) {
      this.panel.reveal();
      await this.render(this.panel);
      return;
    }
    const created = vscode.window.createWebviewPanel('tokenscope.modelInfo', 'Model Architecture', vscode.ViewColumn.Active, {
      enableScripts: false,
      localResourceRoots: [],
    });
    this.panel = created;
    const followSettings = onConfigChange((_config, event) => {
      if (affectsSetting(event, 'model')) void this.render(created).catch((error: unknown) => this.log.error(`Show Model Architecture: ${String(error)}`));
    });
    created.onDidDispose(() => {
      followSettings.dispose();
      if (this.panel === created) this.panel = undefined;
    });
    await this.render(created);
  }

  private async render(target: vscode.WebviewPanel): Promise<void> {
    const { locals, problem } = await readModelsToCompare({
      packageRoot: this.context.extensionPath,
      reference: readConfig().model,
      cwd: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath,
    });
    if (problem) this.log.warn(`Show Model Architecture: ${problem}`);
    if (this.panel !== target) return; // closed or replaced while reading
    target.webview.html = modelInfoHtml({ comparison: compareModels(locals), problem, cspSource: target.webview.cspSource, nonce: newNonce() });
  }

  dispose(): void {
    this.panel?.dispose();
  }
}
