import * as vscode from 'vscode';
import { isWebviewToExtension, type ExtensionToWebview, type WebviewToExtension } from '../shared/chatProtocol';
import { webviewHtml, webviewResourceRoots } from './webviewHtml';

export const chatViewId = 'tokenscope.chat';

/**
 * The chat sidebar. It owns the webview's lifetime only: the view may be created, hidden and
 * disposed many times while the extension runs. Every message it receives is checked against the
 * protocol before the handler (the chat controller) sees it.
 */
export class ChatViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  private readonly viewDisposables: vscode.Disposable[] = [];
  private handler: ((message: WebviewToExtension) => void) | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** Where checked messages go. Set once by the controller. */
  onMessage(handler: (message: WebviewToExtension) => void): void {
    this.handler = handler;
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.disposeView();
    this.view = view;
    view.webview.options = { enableScripts: true, localResourceRoots: webviewResourceRoots(this.extensionUri) };
    view.webview.html = webviewHtml(view.webview, this.extensionUri, { title: 'Tokenscope Chat', script: 'dist/media/chat.js', styles: ['media/chat/chat.css'] });
    this.viewDisposables.push(
      view.webview.onDidReceiveMessage((message: unknown) => {
        if (!isWebviewToExtension(message)) {
          this.log.warn('Chat view sent a malformed message; ignored.');
          return;
        }
        try {
          this.handler?.(message);
        } catch (error) {
          this.log.error(`Chat view message ${message.type} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        }
      }),
      view.onDidDispose(() => {
        if (this.view === view) this.disposeView();
      }),
    );
  }

  /** Opens (and focuses) the chat view; resolves once VS Code has shown it. */
  async reveal(): Promise<void> {
    await vscode.commands.executeCommand(`${chatViewId}.focus`);
  }

  /** Posting to a disposed or hidden webview is a no-op rather than an error: the next `init` catches up. */
  post(message: ExtensionToWebview): void {
    void this.view?.webview.postMessage(message).then(undefined, (error: unknown) => this.log.debug(`Chat view message not delivered: ${String(error)}`));
  }

  private disposeView(): void {
    this.view = undefined;
    for (const disposable of this.viewDisposables.splice(0)) disposable.dispose();
  }

  dispose(): void {
    this.disposeView();
  }
}
