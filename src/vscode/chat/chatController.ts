import * as vscode from 'vscode';
import { randomUUID } from 'node:crypto';
import { basename } from 'node:path';
import { annotateLines } from '../../core/chat/annotations';
import type { ChatBackend, ChatMessage, ThinkingMode } from '../../core/chat/backend';
import { runChatTurn, type ChatTurnResult } from '../../core/chat/chatTurn';
import { buildExplainPrompt, explainTitle, fenceFor, lastLine, type ExplainSelection } from '../../core/chat/explainPrompt';
import { HistorySaveError, titleFrom, type ChatHistoryStore, type ExplainRef, type StoredAssistantMessage, type StoredConversation, type StoredUserMessage } from '../../core/chat/historyStore';
import type { CostEstimator } from '../../core/chat/stats';
import type { TraceDocumentInput } from '../../core/chat/traceFormat';
import { maxChipTextLength, type ChatModelStatus, type CodeAction, type ContextChip, type WebviewToExtension } from '../../core/webview/chatProtocol';
import type { ChatViewProvider } from './chatView';
import type { TokenscopeConfig } from '../config';
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
  readonly updateSetting: (key: string, value: unknown) => Thenable<void>;
  /** Offers a chat model in place of the built-in one (once; the models feature decides when). */
  /** Offers the recommended chat model in place of a completion-only one; false when it was not offered (already once, or not the built-in model). */
  readonly offerChatModel?: (trigger: 'chat' | 'explain') => boolean;
}

interface ActiveTurn {
  readonly requestId: string;
  readonly conversationId: string;
  readonly user: StoredUserMessage;
  readonly abort: AbortController;
  thinking: string;
  answer: string;
}

/** Annotations follow a streaming explanation at most this often. */
const annotationRefreshMs = 250;

function emptyConversation(): StoredConversation {
  const now = Date.now();
  return { id: randomUUID(), title: 'New chat', createdAt: now, updatedAt: now, messages: [] };
}

/**
 * Runs the chat: turns webview messages and editor commands into model requests, streams answers
 * back, keeps history on disk and reasoning annotations in the editor. One answer at a time.
 */
export class ChatController implements vscode.Disposable {
  private conversation: StoredConversation = emptyConversation();
  private active: ActiveTurn | undefined;
  private restored: Promise<void>;
  private disposed = false;
  /** Bumped by Clear History: an answer that finishes afterwards must not write its conversation back. */
  private historyEpoch = 0;
  /** Settings already reported as changed to fit the model (said once per setting and value, not per message). */
  private readonly noticedSettings = new Set<string>();

  constructor(private readonly deps: ChatControllerDeps) {
    deps.view.onMessage((message) => void this.handle(message));
    this.restored = this.restoreLatest();
  }

  /** The most recent conversation comes back after a reload. */
  private async restoreLatest(): Promise<void> {
    try {
      const [latest] = await this.deps.history.list();
      if (latest && !this.active && this.conversation.messages.length === 0) this.conversation = latest;
    } catch (error) {
      this.deps.log.warn(`Chat history could not be loaded: ${(error as Error).message}`);
    }
  }

  status(): ChatModelStatus {
    const backend = this.deps.backend();
    const config = this.deps.config();
    return {
      modelLabel: backend.info.label,
      canChat: backend.info.canChat,
      ...(backend.info.notice ? { notice: backend.info.notice } : {}),
      supportsThinking: backend.info.supportsThinking,
      thinking: config.chat.thinking,
      contextWindow: backend.info.contextWindow,
    };
  }

  refreshStatus(): void {
    this.deps.view.post({ type: 'status', status: this.status() });
  }

  private async handle(message: WebviewToExtension): Promise<void> {
    switch (message.type) {
      case 'ready':
        await this.restored;
        this.deps.view.post({
          type: 'init',
          status: this.status(),
          conversation: this.conversation,
          ...(this.active && this.active.conversationId === this.conversation.id ? { pending: { requestId: this.active.requestId, user: this.active.user, thinking: this.active.thinking, answer: this.active.answer } } : {}),
        });
        return;
      case 'send':
        await this.sendFromView(message.requestId, message.text, message.chips);
        return;
      case 'stop':
        if (this.active?.requestId === message.requestId) this.active.abort.abort();
        return;
      case 'measure':
        await this.measure(message.measureId, message.text, message.chips);
        return;
      case 'attach':
        await this.attach(message.kind);
        return;
      case 'codeAction':
        await this.codeAction(message.action, message.code);
        return;
      case 'openLink':
        await this.openLink(message.href);
        return;
      case 'revealLines':
        await this.revealLines(message.messageId, message.start, message.end);
        return;
      case 'openTrace':
        await this.openTrace(this.conversation.id, message.messageId);
        return;
      case 'setThinking':
        await this.deps.updateSetting('chat.thinking', message.mode);
        return;
      case 'newChat':
        this.newChat();
        return;
      case 'command':
        await vscode.commands.executeCommand(message.command === 'chooseModel' ? 'tokenscope.chooseModel' : 'tokenscope.showLogs');
        return;
    }
  }

  /** Says plainly why chat cannot run, with the way out, instead of generating anything. */
  private refuseIfCannotChat(backend: ChatBackend, trigger: 'chat' | 'explain' = 'chat'): boolean {
    if (backend.info.canChat) return false;
    this.deps.view.post({ type: 'notice', text: backend.info.notice ?? `${backend.info.label} cannot chat.`, action: 'chooseModel' });
    // The first refusal in a window offers the recommended chat model. After that, Explain (run from
    // the editor, where the panel may be hidden) still says why in a notification.
    const offered = this.deps.offerChatModel?.(trigger) ?? false;
    if (!offered && trigger === 'explain') {
      void vscode.window.showInformationMessage(backend.info.notice ?? 'This model cannot chat.', 'Choose a Chat Model…').then((choice) => {
        if (choice) void vscode.commands.executeCommand('tokenscope.chooseModel');
      });
    }
    return true;
  }

  private async sendFromView(requestId: string, text: string, chips: readonly ContextChip[]): Promise<void> {
    const trimmed = text.trim();
    if (!trimmed && chips.length === 0) return;
    const prompt = chips.length > 0 ? withAttachments(trimmed, chips) : undefined;
    const user: StoredUserMessage = {
      id: randomUUID(),
      role: 'user',
      text: trimmed || 'Explain the attached code.',
      ...(prompt ? { prompt } : {}),
      ...(chips.length > 0 ? { attachments: chips.map((chip) => chip.label) } : {}),
      createdAt: Date.now(),
    };
    await this.runTurn(requestId, user);
  }

  /** Explain Selection: the selection (whole lines) goes to the chat with its file, language and line numbers. */
  async explain(editor: vscode.TextEditor | undefined): Promise<void> {
    if (!editor) {
      void vscode.window.showInformationMessage('Tokenscope: open a file and select the code to explain.');
      return;
    }
    const selection = wholeLines(editor);
    if (!selection) {
      void vscode.window.showInformationMessage('Tokenscope: select the code to explain first (Explain Selection works on the selected lines).');
      return;
    }
    await this.deps.view.reveal();
    const backend = this.deps.backend();
    if (this.refuseIfCannotChat(backend, 'explain')) return;
    const content = buildExplainPrompt(selection.explain).content; // throws a clear message for oversized selections
    const ref: ExplainRef = { uri: editor.document.uri.toString(), path: selection.explain.path, languageId: selection.explain.languageId, startLine: selection.explain.startLine, endLine: lastLine(selection.explain) };
    this.deps.annotations.set(editor.document.uri, [], { conversationId: this.conversation.id, messageId: '' });
    const user: StoredUserMessage = { id: randomUUID(), role: 'user', text: explainTitle(selection.explain), prompt: content, explain: ref, createdAt: Date.now() };
    await this.runTurn(`explain-${randomUUID()}`, user);
  }

  private async runTurn(requestId: string, user: StoredUserMessage): Promise<void> {
    await this.restored;
    const backend = this.deps.backend();
    if (this.refuseIfCannotChat(backend)) return;
    if (this.active) {
      this.deps.view.post({ type: 'notice', text: 'An answer is still being generated. Stop it (or wait) before sending another message.' });
      return;
    }
    const config = this.deps.config();
    // Templates without a thinking switch ignore it; before a model loads its support is unknown.
    const thinking: ThinkingMode = config.chat.thinking;
    const fitted = await this.fitToContext(backend, [...modelMessages(this.conversation), { role: 'user', content: user.prompt ?? user.text }], thinking, config.chat.maxTokens);
    if ('problem' in fitted) {
      this.deps.view.post({ type: 'notice', text: fitted.problem });
      return;
    }
    const conversationId = this.conversation.id;
    const epoch = this.historyEpoch;
    const active: ActiveTurn = { requestId, conversationId, user, abort: new AbortController(), thinking: '', answer: '' };
    this.active = active;
    this.conversation = {
      ...this.conversation,
      title: this.conversation.messages.length === 0 ? titleFrom(user.text) : this.conversation.title,
      updatedAt: Date.now(),
      messages: [...this.conversation.messages, user],
    };
    this.deps.view.post({ type: 'turnStart', requestId, user });
    // The question is on disk before the answer starts: a crash mid-answer loses nothing asked.
    void this.persist(this.conversation);

    const assistantId = randomUUID();
    let lastAnnotation = 0;
    let result: ChatTurnResult | undefined;
    let failure: Error | undefined;
    try {
      result = await runChatTurn(
        backend,
        { messages: fitted.messages, thinking, temperature: config.chat.temperature, topP: config.chat.topP, maxTokens: config.chat.maxTokens },
        active.abort.signal,
        {
          ...(this.deps.estimateCost() ? { estimateCost: this.deps.estimateCost() } : {}),
          onNotice: (text) => {
            this.deps.log.info(`Chat: ${text}`);
            // "tokenscope.chat.topP is 0, ..." / "tokenscope.chat.maxTokens 32768 does not fit ...": once per setting and value.
            const key = text.split(/[,:]/)[0] ?? text;
            if (this.noticedSettings.has(key)) return;
            this.noticedSettings.add(key);
            this.deps.view.post({ type: 'notice', text: `${text} Change it in Settings.` });
          },
          onDelta: (delta) => {
            if (delta.kind === 'reclassify') {
              active.thinking += active.answer;
              active.answer = '';
              this.deps.view.post({ type: 'reclassify', requestId });
            } else {
              if (delta.kind === 'thinking') active.thinking += delta.text;
              else active.answer += delta.text;
              this.deps.view.post({ type: 'delta', requestId, part: delta.kind, text: delta.text });
            }
            if (user.explain && Date.now() - lastAnnotation > annotationRefreshMs) {
              lastAnnotation = Date.now();
              this.annotate(user.explain, active.thinking, active.answer, conversationId, assistantId);
            }
          },
        },
      );
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
      this.deps.log.error(`Chat generation failed: ${failure.stack ?? failure.message}`);
    } finally {
      this.active = undefined;
    }

    const assistant: StoredAssistantMessage = result
      ? { id: assistantId, role: 'assistant', text: result.answer, ...(result.thinking ? { thinking: result.thinking } : {}), stats: result.stats, stopReason: result.stopReason, model: backend.info.label, createdAt: Date.now() }
      : {
          id: assistantId,
          role: 'assistant',
          text: active.answer,
          ...(active.thinking ? { thinking: { text: active.thinking, tokens: 0, durationMs: 0, complete: false } } : {}),
          stopReason: 'error',
          error: `${failure?.message ?? 'Generation failed.'} See the Tokenscope log for details.`,
          model: backend.info.label,
          createdAt: Date.now(),
        };
    // The user may have started a new chat (or cleared history) while this answer streamed: it
    // then belongs to its own conversation on disk, or nowhere.
    const conversation = conversationId === this.conversation.id ? this.conversation : epoch === this.historyEpoch ? await this.deps.history.get(conversationId) : undefined;
    const updated: StoredConversation | undefined = conversation && { ...conversation, updatedAt: Date.now(), messages: [...conversation.messages, assistant] };
    if (updated && conversationId === this.conversation.id) this.conversation = updated;
    if (!this.disposed) this.deps.view.post({ type: 'turnEnd', requestId, message: assistant });
    if (user.explain) this.annotate(user.explain, assistant.thinking?.text ?? '', assistant.text, conversationId, assistantId);
    const stats = assistant.stats;
    this.deps.log.info(`Chat answer ${assistant.stopReason}${stats ? `: ${stats.promptTokens} prompt + ${stats.generatedTokens} generated tokens in ${Math.round(stats.totalMs)} ms` : ''}.`);
    if (updated && epoch === this.historyEpoch) await this.persist(updated);
  }

  private annotate(ref: ExplainRef, thinking: string, answer: string, conversationId: string, messageId: string): void {
    const annotations = annotateLines({ thinking, answer }, { start: ref.startLine, end: ref.endLine });
    this.deps.annotations.set(vscode.Uri.parse(ref.uri), annotations, { conversationId, messageId });
  }

  private async persist(conversation: StoredConversation): Promise<void> {
    try {
      this.deps.history.setLimit(this.deps.config().chat.historyLimit);
      await this.deps.history.save(conversation);
    } catch (error) {
      this.deps.log.error(`Chat history could not be saved to ${this.deps.history.path}: ${(error as Error).message}`);
      // The store's messages say what happened and what to do; the conversation stays open in the view.
      const message = error instanceof HistorySaveError ? error.message : `The chat history could not be saved (${(error as Error).message}).`;
      void vscode.window.showWarningMessage(`Tokenscope: ${message}`);
    }
  }

  /**
   * Drops the oldest exchanges until prompt + answer budget fit the context window; the new
   * message itself must fit, or the user is told what to remove.
   */
  private async fitToContext(backend: ChatBackend, messages: ChatMessage[], thinking: ThinkingMode, maxTokens: number): Promise<{ messages: ChatMessage[] } | { problem: string }> {
    const window = backend.info.contextWindow;
    if (window <= 0) return { messages };
    const budget = Math.max(1, window - Math.min(maxTokens, Math.floor(window / 2)));
    let kept = messages;
    let tokens = await backend.countPromptTokens(kept, thinking);
    while (kept.length > 1 && tokens > budget) {
      kept = kept.slice(kept[0]?.role === 'user' && kept[1]?.role === 'assistant' ? 2 : 1);
      tokens = await backend.countPromptTokens(kept, thinking);
    }
    if (tokens > budget) {
      return { problem: `This message is about ${tokens} tokens, but ${backend.info.label} has room for ${budget} prompt tokens (a ${window}-token window, less room for the answer). Remove attachments or select less code.` };
    }
    if (kept.length < messages.length) this.deps.log.info(`Chat: left ${messages.length - kept.length} older message(s) out of the prompt to fit the ${window}-token context window.`);
    return { messages: kept };
  }

  private async measure(measureId: number, text: string, chips: readonly ContextChip[]): Promise<void> {
    const backend = this.deps.backend();
    if (!backend.info.canChat) return;
    const config = this.deps.config();
    const content = chips.length > 0 ? withAttachments(text, chips) : text;
    const messages: ChatMessage[] = [...modelMessages(this.conversation), { role: 'user', content }];
    let promptTokens: number;
    try {
      promptTokens = await backend.countPromptTokens(messages, config.chat.thinking);
    } catch (error) {
      this.deps.log.debug(`Chat: counting prompt tokens failed: ${(error as Error).message}`);
      return;
    }
    this.deps.view.post({ type: 'promptInfo', measureId, promptTokens, contextWindow: backend.info.contextWindow, maxTokens: config.chat.maxTokens });
  }

  private async attach(kind: 'selection' | 'file'): Promise<void> {
    const editor = this.deps.editors.editor;
    if (!editor) {
      this.deps.view.post({ type: 'notice', text: 'Open a file in the editor first: attachments come from the active editor.' });
      return;
    }
    const document = editor.document;
    const path = vscode.workspace.asRelativePath(document.uri, false);
    let chip: ContextChip;
    if (kind === 'selection') {
      const selection = wholeLines(editor);
      if (!selection) {
        this.deps.view.post({ type: 'notice', text: 'Select some code in the editor first, then attach it.' });
        return;
      }
      const end = lastLine(selection.explain);
      chip = { id: randomUUID(), kind, label: `${basename(path)}:${selection.explain.startLine}-${end}`, path, languageId: document.languageId, startLine: selection.explain.startLine, text: selection.explain.text, tokens: await this.deps.backend().countTokens(selection.explain.text) };
    } else {
      const text = document.getText();
      chip = { id: randomUUID(), kind, label: basename(path), path, languageId: document.languageId, text, tokens: await this.deps.backend().countTokens(text) };
    }
    if (chip.text.length > maxChipTextLength) {
      this.deps.view.post({ type: 'notice', text: `${chip.label} is ${Math.round(chip.text.length / 1000)} KB; attachments are limited to ${maxChipTextLength / 1000} KB. Attach a selection instead.` });
      return;
    }
    this.deps.view.post({ type: 'chip', chip });
  }

  private async codeAction(action: CodeAction, code: string): Promise<void> {
    if (action === 'copy') {
      await vscode.env.clipboard.writeText(code);
      vscode.window.setStatusBarMessage('$(check) Code copied', 2000);
      return;
    }
    const editor = this.deps.editors.editor;
    if (!editor) {
      this.deps.view.post({ type: 'notice', text: 'Open a file in the editor first: the code goes into the active editor.' });
      return;
    }
    if (action === 'replace' && editor.selection.isEmpty) {
      this.deps.view.post({ type: 'notice', text: 'Select the code to replace in the editor first (or use Insert to add at the cursor).' });
      return;
    }
    const applied = await editor.edit((edit) => {
      if (action === 'replace') edit.replace(editor.selection, code);
      else edit.insert(editor.selection.active, code);
    });
    if (!applied) this.deps.view.post({ type: 'notice', text: 'The editor refused the edit (is the file read-only?).' });
    else await vscode.window.showTextDocument(editor.document, editor.viewColumn);
  }

  /** Links in model output open only after the user confirms, and only http(s)/mailto. */
  private async openLink(href: string): Promise<void> {
    let uri: vscode.Uri;
    try {
      uri = vscode.Uri.parse(href, true);
    } catch {
      this.deps.view.post({ type: 'notice', text: `Not a link Tokenscope can open: ${href}` });
      return;
    }
    if (!['http', 'https', 'mailto'].includes(uri.scheme)) {
      this.deps.view.post({ type: 'notice', text: `Tokenscope opens only http, https and mailto links from model output, not ${uri.scheme}: links.` });
      return;
    }
    const choice = await vscode.window.showWarningMessage(`The model's answer links to ${href}. Open it in your browser?`, { modal: true, detail: 'Model output is untrusted: check the address first.' }, 'Open Link');
    if (choice === 'Open Link') await vscode.env.openExternal(uri);
  }

  /** A citation clicked in the chat selects those lines of the explained file. */
  private async revealLines(messageId: string, start: number, end: number): Promise<void> {
    const ref = explainRefFor(this.conversation, messageId);
    if (!ref) return;
    const document = await vscode.workspace.openTextDocument(vscode.Uri.parse(ref.uri));
    const last = Math.min(end, document.lineCount);
    const range = new vscode.Range(Math.max(0, start - 1), 0, Math.max(0, last - 1), document.lineAt(Math.max(0, last - 1)).text.length);
    const editor = await vscode.window.showTextDocument(document, { selection: range, preserveFocus: false });
    editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }

  async openTrace(conversationId: string, messageId: string): Promise<void> {
    const title = (await this.findAnswer(conversationId, messageId))?.title ?? 'trace';
    await this.deps.traces.open(conversationId, messageId, title);
  }

  /** The newest answer in the current conversation (for the command palette's "open trace"). */
  latestAnswerId(): string | undefined {
    return [...this.conversation.messages].reverse().find((message) => message.role === 'assistant')?.id;
  }

  get conversationId(): string {
    return this.conversation.id;
  }

  /** What the trace document shows for an answer: live while it streams, else from history. */
  async findAnswer(conversationId: string, messageId: string): Promise<TraceDocumentInput | undefined> {
    const conversation = conversationId === this.conversation.id ? this.conversation : await this.deps.history.get(conversationId);
    if (!conversation) return undefined;
    const index = conversation.messages.findIndex((message) => message.id === messageId);
    const message = conversation.messages[index];
    if (!message || message.role !== 'assistant') return undefined;
    const question = [...conversation.messages.slice(0, index)].reverse().find((candidate) => candidate.role === 'user');
    return {
      title: question?.text ?? conversation.title,
      model: message.model,
      createdAt: message.createdAt,
      ...(message.thinking ? { thinking: message.thinking } : {}),
      answer: message.error ? `${message.text}\n\n(error: ${message.error})` : message.text,
      ...(message.stats ? { stats: message.stats } : {}),
      stopReason: message.stopReason,
    };
  }

  newChat(): void {
    this.active?.abort.abort();
    this.conversation = emptyConversation();
    this.deps.view.post({ type: 'conversation', conversation: this.conversation });
  }

  async clearHistory(): Promise<void> {
    const choice = await vscode.window.showWarningMessage('Delete all Tokenscope chat history?', { modal: true, detail: `This removes every stored conversation from ${this.deps.history.path}.` }, 'Delete History');
    if (choice !== 'Delete History') return;
    this.historyEpoch++;
    this.active?.abort.abort();
    await this.deps.history.clear();
    this.deps.annotations.clear();
    this.newChat();
    void vscode.window.showInformationMessage('Tokenscope: chat history deleted.');
  }

  dispose(): void {
    this.disposed = true;
    this.active?.abort.abort();
  }
}

/** What the model sees of earlier turns: questions as sent, answers without their reasoning. */
function modelMessages(conversation: StoredConversation): ChatMessage[] {
  const messages: ChatMessage[] = [];
  for (const message of conversation.messages) {
    if (message.role === 'user') messages.push({ role: 'user', content: message.prompt ?? message.text });
    else if (message.stopReason !== 'error' && message.text.trim() !== '') messages.push({ role: 'assistant', content: message.text });
    else messages.pop(); // a question without an answer is left out with it
  }
  return messages;
}

function withAttachments(text: string, chips: readonly ContextChip[]): string {
  const blocks = chips.map((chip) => {
    const fence = fenceFor(chip.text);
    const what = chip.kind === 'selection' ? `Selected code from \`${chip.path}\` (from line ${chip.startLine ?? 1})` : `The file \`${chip.path}\``;
    return `${what}:\n${fence}${chip.languageId === 'plaintext' ? '' : chip.languageId}\n${chip.text.replace(/\n$/, '')}\n${fence}`;
  });
  return [...blocks, text || 'Explain the attached code.'].join('\n\n');
}

function explainRefFor(conversation: StoredConversation, messageId: string): ExplainRef | undefined {
  const index = conversation.messages.findIndex((message) => message.id === messageId);
  for (let i = index; i >= 0; i--) {
    const message = conversation.messages[i];
    if (message?.role === 'user') return message.explain;
  }
  return undefined;
}

/** The selection widened to whole lines; a selection ending at column 0 leaves that line out. */
function wholeLines(editor: vscode.TextEditor): { explain: ExplainSelection } | undefined {
  const selection = editor.selection;
  if (selection.isEmpty) return undefined;
  const document = editor.document;
  const startLine = selection.start.line;
  const endLine = selection.end.character === 0 && selection.end.line > startLine ? selection.end.line - 1 : selection.end.line;
  const text = document.getText(new vscode.Range(startLine, 0, endLine, document.lineAt(endLine).text.length));
  if (text.trim() === '') return undefined;
  const path = document.uri.scheme === 'untitled' ? basename(document.uri.path) : vscode.workspace.asRelativePath(document.uri, false);
  return { explain: { path, languageId: document.languageId, startLine: startLine + 1, text } };
}
