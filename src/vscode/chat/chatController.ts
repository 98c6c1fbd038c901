import * as vscode from 'vscode';
import type { ChatBackend } from '../../core/chat/backend';
import { ChatSession, type ChatSessionDeps, type ChatSettings } from '../../core/chat/chatSession';
import { userMessageFrom } from '../../core/chat/conversation';
import type { ChatHistoryStore } from '../../core/chat/historyStore';
import type { CostEstimator } from '../../core/pricing/cost';
import type { TraceDocumentInput } from '../../core/chat/traceFormat';
import type { ChatModelStatus, WebviewToExtension } from '../../core/webview/chatProtocol';
import type { TokenscopeConfig, updateSetting } from '../config';
import type { ChatViewProvider } from './chatView';
import { ChatEditorActions, selectedLines } from './editorActions';
import type { EditorTracker } from './editorTracker';
import type { TraceAnnotations } from './traceAnnotations';
import type { TraceDocuments } from './traceDocuments';

export interface ChatControllerDeps {
  readonly view: ChatViewProvider;
  readonly log: vscode.LogOutputChannel;
  readonly history: ChatHistoryStore;
  readonly backend: () => ChatBackend;
  readonly config: () => TokenscopeConfig;
  readonly annotations: TraceAnnotations;
  readonly traces: TraceDocuments;
  readonly editors: EditorTracker;
  readonly estimateCost: () => CostEstimator | undefined;
  readonly referenceModel?: ChatSessionDeps['referenceModel'];
  readonly recordUsage?: ChatSessionDeps['recordUsage'];
  readonly updateSetting: typeof updateSetting;
  /** Offers the recommended chat model in place of a completion-only one; false when it was not offered (already once, or not the built-in model). */
  readonly offerChatModel?: (trigger: 'chat' | 'explain') => boolean;
}

/**
 * The chat's editor side: routes the webview's messages to the session (src/core/chat/chatSession.ts,
 * which runs the turns and keeps history) or to the editor actions (editorActions.ts), and renders
 * what the session reports with VS Code's UI (annotations, notifications, dialogs).
 */
export class ChatController implements vscode.Disposable {
  private readonly session: ChatSession;
  private readonly actions: ChatEditorActions;

  constructor(private readonly deps: ChatControllerDeps) {
    const post = deps.view.post.bind(deps.view);
    this.session = new ChatSession({
      post,
      history: deps.history,
      backend: deps.backend,
      settings: (): ChatSettings => deps.config().chat,
      estimateCost: deps.estimateCost,
      referenceModel: deps.referenceModel,
      recordUsage: deps.recordUsage,
      log: deps.log,
      annotate: (uri, annotations, owner) => deps.annotations.set(vscode.Uri.parse(uri), annotations, owner),
      onCannotChat: (backend, trigger) => this.offerChatModel(backend, trigger),
      onSaveFailed: (message) => void vscode.window.showWarningMessage(`Tokenscope: ${message}`),
    });
    this.actions = new ChatEditorActions(deps.editors, (text) => post({ type: 'notice', text }));
    deps.view.onMessage((message) => void this.handle(message));
  }

  status(): ChatModelStatus {
    return this.session.status();
  }

  refreshStatus(): void {
    this.deps.view.post({ type: 'status', status: this.session.status() });
  }

  get conversationId(): string {
    return this.session.conversationId;
  }

  private async handle(message: WebviewToExtension): Promise<void> {
    switch (message.type) {
      case 'ready':
        return this.session.ready();
      case 'send': {
        const user = userMessageFrom(message.text, message.chips);
        if (user) await this.session.send(message.requestId, user);
        return;
      }
      case 'stop':
        return this.session.stop(message.requestId);
      case 'measure':
        return this.session.measure(message.measureId, message.text, message.chips);
      case 'attach': {
        const chip = await this.actions.attach(message.kind, (text) => this.deps.backend().countTokens(text));
        if (chip) this.deps.view.post({ type: 'chip', chip });
        return;
      }
      case 'codeAction':
        return this.actions.codeAction(message.action, message.code);
      case 'openLink':
        return this.actions.openLink(message.href);
      case 'revealLines': {
        const ref = this.session.explainRefFor(message.messageId);
        if (ref) await this.actions.revealLines(ref, message.start, message.end);
        return;
      }
      case 'openTrace':
        return this.openTrace(this.session.conversationId, message.messageId);
      case 'setThinking':
        return this.deps.updateSetting('chat.thinking', message.mode);
      case 'newChat':
        return this.session.newChat();
      case 'command':
        await vscode.commands.executeCommand(message.command === 'chooseModel' ? 'tokenscope.chooseModel' : 'tokenscope.showLogs');
        return;
    }
  }

  /**
   * After the chat said why the model cannot chat: the first refusal in a window offers the
   * recommended chat model. After that, Explain (run from the editor, where the panel may be
   * hidden) still says why in a notification.
   */
  private offerChatModel(backend: ChatBackend, trigger: 'chat' | 'explain'): void {
    const offered = this.deps.offerChatModel?.(trigger) ?? false;
    if (!offered && trigger === 'explain') {
      void vscode.window.showInformationMessage(backend.info.notice ?? 'This model cannot chat.', 'Choose a Chat Model…').then((choice) => {
        if (choice) void vscode.commands.executeCommand('tokenscope.chooseModel');
      });
    }
  }

  /** Explain Selection: the selection (whole lines) goes to the chat with its file, language and line numbers. */
  async explain(editor: vscode.TextEditor | undefined): Promise<void> {
    if (!editor) {
      void vscode.window.showInformationMessage('Tokenscope: open a file and select the code to explain.');
      return;
    }
    const selection = selectedLines(editor);
    if (!selection) {
      void vscode.window.showInformationMessage('Tokenscope: select the code to explain first (Explain Selection works on the selected lines).');
      return;
    }
    await this.deps.view.reveal();
    await this.session.explain(selection, editor.document.uri.toString());
  }

  async openTrace(conversationId: string, messageId: string): Promise<void> {
    const title = (await this.session.findAnswer(conversationId, messageId))?.title ?? 'trace';
    await this.deps.traces.open(conversationId, messageId, title);
  }

  /** The newest answer in the current conversation (for the command palette's "open trace"). */
  latestAnswerId(): string | undefined {
    return this.session.latestAnswerId();
  }

  /** What the trace document shows for an answer: live while it streams, else from history. */
  findAnswer(conversationId: string, messageId: string): Promise<TraceDocumentInput | undefined> {
    return this.session.findAnswer(conversationId, messageId);
  }

  newChat(): void {
    this.session.newChat();
  }

  async clearHistory(): Promise<void> {
    const choice = await vscode.window.showWarningMessage('Delete all Tokenscope chat history?', { modal: true, detail: `This removes every stored conversation from ${this.deps.history.path}.` }, 'Delete History');
    if (choice !== 'Delete History') return;
    await this.session.clearHistory();
    this.deps.annotations.clear();
    void vscode.window.showInformationMessage('Tokenscope: chat history deleted.');
  }

  dispose(): void {
    this.session.dispose();
  }
}
