import * as vscode from 'vscode';
import { webviewDocument } from '../core/webview/html';
import { newNonce } from '../core/webview/nonce';

/**
 * HTML for a Tokenscope webview under a strict Content-Security-Policy: nothing loads unless it is
 * one of our own files (via asWebviewUri) or carries this page's nonce, and no remote resource can
 * ever load, even if model output smuggles markup into the page.
 */
export function webviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, page: { title: string; script: string; styles: readonly string[] }): string {
  const nonce = newNonce();
  const asset = (path: string) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, path)).toString();
  const csp = [
    `default-src 'none'`,
    `img-src ${webview.cspSource} data:`,
    `style-src ${webview.cspSource} 'nonce-${nonce}'`,
    `font-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ];
  return webviewDocument({
    csp,
    title: page.title,
    head: page.styles.map((path) => `<link rel="stylesheet" nonce="${nonce}" href="${asset(path)}">`).join('\n'),
    body: `<div id="app" role="main"></div>\n<script nonce="${nonce}" src="${asset(page.script)}"></script>`,
  });
}

/** Folders a webview may load from: the built scripts and the static media. */
export function webviewResourceRoots(extensionUri: vscode.Uri): vscode.Uri[] {
  return [vscode.Uri.joinPath(extensionUri, 'dist', 'media'), vscode.Uri.joinPath(extensionUri, 'media')];
}
