import * as vscode from 'vscode';
import { isWebviewToExtension, type ChatModelStatus, type ExtensionToWebview } from '../shared/chatProtocol';
import { webviewHtml, webviewResourceRoots } from './webviewHtml';

export const chatViewId = 'tokenscope.chat';

/**
 * The chat sidebar. It owns the webview's lifetime only: the view may be created, hidden and
 * disposed many times while the extension runs, and every message it sends is checked first.
 */
export class ChatViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  private readonly viewDisposables: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
    private readonly modelStatus: () => ChatModelStatus,
  ) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    this.disposeView();
    this.view = view;
    view.webview.options = { enableScripts: true, localResourceRoots: webviewResourceRoots(this.extensionUri) };
    view.webview.html = webviewHtml(view.webview, this.extensionUri, { title: 'Tokenscope Chat', script: 'dist/media/chat.js', styles: ['media/chat/chat.css'] });
    this.viewDisposables.push(
      view.webview.onDidReceiveMessage((message: unknown) => this.onMessage(message)),
      view.onDidDispose(() => {
        if (this.view === view) this.disposeView();
      }),
    );
  }

  /** Tells an open chat view that the model (or what it can do) changed. */
  refreshStatus(): void {
    this.post({ type: 'status', status: this.modelStatus() });
  }

  private onMessage(message: unknown): void {
    if (!isWebviewToExtension(message)) {
      this.log.warn('Chat view sent a malformed message; ignored.');
      return;
    }
    switch (message.type) {
      case 'ready':
        this.post({ type: 'init', status: this.modelStatus() });
        break;
      case 'send': {
        const status = this.modelStatus();
        this.post({ type: 'notice', requestId: message.requestId, text: status.notice ?? 'Chat with local models is not available in this version yet.' });
        break;
      }
      case 'command':
        void vscode.commands.executeCommand(message.command === 'chooseModel' ? 'tokenscope.chooseModel' : 'tokenscope.showLogs');
        break;
    }
  }

  /** Posting to a disposed or hidden webview is a no-op rather than an error. */
  private post(message: ExtensionToWebview): void {
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
