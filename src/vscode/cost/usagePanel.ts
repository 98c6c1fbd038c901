import * as vscode from 'vscode';
import type { UsageLedger } from '../../core/cost/usageLedger';
import { usagePageHtml } from '../../core/cost/usagePage';
import { newNonce } from '../../core/webview/nonce';
import type { LensTokenizers } from '../tokenLens/lensTokenizers';

let panel: vscode.WebviewPanel | undefined;

/**
 * The Usage & Cost panel (one at a time): the usage ledger over today, 7 and 30 days, by feature
 * and by model, with a bar chart. The page is built in core (src/core/cost/usagePage.ts), static
 * HTML with no script; it is built again when the panel comes back into view and after each write.
 */
export async function showUsagePanel(ledger: UsageLedger, tokenizers: LensTokenizers, log: vscode.LogOutputChannel): Promise<void> {
  const render = async () => {
    if (!panel) return;
    try {
      await ledger.flush();
    } catch (error) {
      log.warn(error instanceof Error ? error.message : String(error));
    }
    const days = await ledger.read();
    if (!panel) return;
    panel.webview.html = usagePageHtml({ ledger: days, ledgerPath: ledger.path, models: tokenizers.prices.models, reference: tokenizers.referenceModel, nonce: newNonce() });
  };
  if (panel) {
    panel.reveal();
  } else {
    panel = vscode.window.createWebviewPanel('tokenscope.usage', 'Usage & Cost', vscode.ViewColumn.Active, { enableScripts: false, localResourceRoots: [] });
    const shown = panel;
    const listeners = [shown.onDidChangeViewState(() => shown.visible && void render()), ledger.onDidWrite(() => shown.visible && void render())];
    shown.onDidDispose(() => {
      for (const listener of listeners) listener.dispose();
      panel = undefined;
    });
  }
  await render();
}
