import * as vscode from 'vscode';
import { countPromptTokens } from '../../core/promptTokens/promptTokens';
import { promptTokensPageHtml } from '../../core/promptTokens/promptTokensPage';
import { newNonce } from '../../core/webview/nonce';
import { modelLabel } from '../modelCommands';
import type { PromptTokensServices } from './register';

let panel: vscode.WebviewPanel | undefined;

/**
 * Tokenscope: Show Prompt Tokens: the exact sequence the local model read for its latest answer (a
 * chat turn, an explanation, a completion), asked of the model process, which keeps it. Servers
 * apply their own templates out of sight, so this covers the local model only, and says so.
 */
export async function showPromptTokens(services: PromptTokensServices): Promise<void> {
  if (!services.runtime.client.model) {
    void vscode.window.showInformationMessage('Tokenscope: the local model has not run yet. Ask for a completion (Alt+\\), chat or explain something, then show its prompt tokens. (A server applies its own chat template, which Tokenscope cannot see.)');
    return;
  }
  const prompt = await services.runtime.client.lastPrompt();
  if (!prompt) {
    void vscode.window.showInformationMessage(`Tokenscope: ${modelLabel(services.runtime.client.model.id)} has not answered anything since it loaded. Ask for a completion (Alt+\\), chat or explain something first.`);
    return;
  }
  const html = promptTokensPageHtml({ prompt, modelLabel: modelLabel(prompt.model), nonce: newNonce() });
  if (panel) panel.reveal(vscode.ViewColumn.Beside);
  else {
    const created = vscode.window.createWebviewPanel('tokenscope.promptTokens', 'Prompt tokens', vscode.ViewColumn.Beside, { enableScripts: false, localResourceRoots: [] });
    created.onDidDispose(() => {
      if (panel === created) panel = undefined;
    });
    panel = created;
  }
  panel.webview.html = html;
  const counts = countPromptTokens(prompt.pieces);
  services.log.info(`Prompt tokens: ${prompt.kind} prompt of ${counts.total} tokens (${counts.special} control) on ${modelLabel(prompt.model)}`);
}
