/**
 * The chat's turns and their persistence, free of the editor and of the webview: what is asked
 * goes to the model fitted to its context window, the answer streams to `post` (the chat protocol's
 * messages), and the conversation is kept on disk. The editor glue (src/vscode/chat/chatController.ts)
 * routes the webview's messages here and renders what the session reports (annotations, a failed
 * save, a model that cannot chat). One answer at a time.
 */
import { randomUUID } from 'node:crypto';
import { annotateLines, type LineAnnotation } from './annotations';
import type { ChatBackend, ChatMessage, ChatTokenProbability, ThinkingMode } from './backend';
import { runChatTurn, type ChatTurnResult } from './chatTurn';
import { fitToContext } from './contextFit';
import { answerMessage, emptyConversation, explainRefFor, failedAnswerMessage, latestAnswerId, modelMessages, traceInputFor, withAttachments } from './conversation';
import { buildExplainPrompt, explainTitle, lastLine, type ExplainSelection } from './explainPrompt';
import { titleFrom, type ExplainRef, type StoredAssistantMessage, type StoredConversation, type StoredUserMessage } from './historyFormat';
import { HistorySaveError, type ChatHistoryStore } from './historyStore';
import type { CostEstimator, TokenUsage } from '../pricing/cost';
import type { PricedModel } from '../pricing/prices';
import { promptCost } from '../cost/promptCost';
import type { TraceDocumentInput } from './traceFormat';
import type { ChatModelStatus, ContextChip, ExtensionToWebview } from '../webview/chatProtocol';

/** The chat settings a turn reads (tokenscope.chat.*); the config's `chat` section fits as it is. */
export interface ChatSettings {
  readonly thinking: ThinkingMode;
  readonly temperature: number;
  readonly topP: number;
  readonly maxTokens: number;
  readonly historyLimit: number;
}

export interface ChatSessionLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  debug(message: string): void;
}

/** Which answer annotations belong to (the hover's "open trace" link). */
export interface AnnotationOwner {
  readonly conversationId: string;
  readonly messageId: string;
}

export interface ChatSessionDeps {
  /** To the chat view; a hidden or disposed view drops messages (its next `ready` catches up). */
  readonly post: (message: ExtensionToWebview) => void;
  readonly history: Pick<ChatHistoryStore, 'list' | 'get' | 'save' | 'clear' | 'setLimit' | 'path'>;
  readonly backend: () => ChatBackend;
  readonly settings: () => ChatSettings;
  readonly estimateCost: () => CostEstimator | undefined;
  readonly log: ChatSessionLog;
  /** Reasoning annotations for an explained file (`uri` as a string), replaced as the answer streams. */
  readonly annotate: (uri: string, annotations: readonly LineAnnotation[], owner: AnnotationOwner) => void;
  /** The backend cannot chat; the view has been told why. The glue may offer a chat model. */
  readonly onCannotChat?: (backend: ChatBackend, trigger: 'chat' | 'explain') => void;
  /** History did not reach the disk: the sentence says why and what to do (the glue shows it). */
  readonly onSaveFailed: (message: string) => void;
  /** The reference model for "before you send" costs (the chat input, an explanation's progress line). */
  readonly referenceModel?: () => PricedModel | undefined;
  /** Each finished answer's usage, for the usage ledger (the glue knows local or remote). */
  readonly recordUsage?: (feature: 'chat' | 'explain', usage: TokenUsage) => void;
}

/** Answers whose token probabilities are kept in memory (each up to maxTurnProbabilities tokens). */
const keptProbabilityAnswers = 30;

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

export class ChatSession {
  private conversation: StoredConversation = emptyConversation();
  private active: ActiveTurn | undefined;
  private readonly restored: Promise<void>;
  /** The answers' token probabilities by message id, newest last: kept while the window is open (never in the history file). */
  private readonly probabilities = new Map<string, { readonly tokens: readonly ChatTokenProbability[]; readonly total: number }>();
  private disposed = false;
  /** Bumped by Clear History: an answer that finishes afterwards must not write its conversation back. */
  private historyEpoch = 0;
  /** Settings already reported as changed to fit the model (said once per setting and value, not per message). */
  private readonly noticedSettings = new Set<string>();

  constructor(private readonly deps: ChatSessionDeps) {
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

  get conversationId(): string {
    return this.conversation.id;
  }

  status(): ChatModelStatus {
    const backend = this.deps.backend();
    return {
      modelLabel: backend.info.label,
      canChat: backend.info.canChat,
      ...(backend.info.notice ? { notice: backend.info.notice } : {}),
      supportsThinking: backend.info.supportsThinking,
      thinking: this.deps.settings().thinking,
      contextWindow: backend.info.contextWindow,
    };
  }

  /** The view (re)loaded: the conversation, and the answer still streaming into it, if any. */
  async ready(): Promise<void> {
    await this.restored;
    const active = this.active;
    this.deps.post({
      type: 'init',
      status: this.status(),
      conversation: this.conversation,
      ...(active && active.conversationId === this.conversation.id ? { pending: { requestId: active.requestId, user: active.user, thinking: active.thinking, answer: active.answer } } : {}),
    });
    for (const message of this.conversation.messages) {
      const kept = this.probabilities.get(message.id);
      if (kept) this.deps.post({ type: 'probabilities', messageId: message.id, ...kept });
    }
  }

  /** Stops the answer of `requestId` (what arrived so far is kept). */
  stop(requestId: string): void {
    if (this.active?.requestId === requestId) this.active.abort.abort();
  }

  /** Says plainly why chat cannot run, with the way out, instead of generating anything. */
  private refuseIfCannotChat(backend: ChatBackend, trigger: 'chat' | 'explain'): boolean {
    if (backend.info.canChat) return false;
    this.deps.post({ type: 'notice', text: backend.info.notice ?? `${backend.info.label} cannot chat.`, action: 'chooseModel' });
    this.deps.onCannotChat?.(backend, trigger);
    return true;
  }

  /** A message typed in the chat view. */
  async send(requestId: string, user: StoredUserMessage): Promise<void> {
    await this.runTurn(requestId, user);
  }

  /**
   * Explain Selection: the selection goes to the chat with its file, language and line numbers;
   * `uri` is the document's (where the reasoning annotations go). Throws a clear message for an
   * oversized selection.
   */
  async explain(selection: ExplainSelection, uri: string): Promise<void> {
    const backend = this.deps.backend();
    if (this.refuseIfCannotChat(backend, 'explain')) return;
    const content = buildExplainPrompt(selection).content;
    const ref: ExplainRef = { uri, path: selection.path, languageId: selection.languageId, startLine: selection.startLine, endLine: lastLine(selection) };
    this.deps.annotate(uri, [], { conversationId: this.conversation.id, messageId: '' });
    const user: StoredUserMessage = { id: randomUUID(), role: 'user', text: explainTitle(selection), prompt: content, explain: ref, createdAt: Date.now() };
    await this.runTurn(`explain-${randomUUID()}`, user);
  }

  private async runTurn(requestId: string, user: StoredUserMessage): Promise<void> {
    await this.restored;
    const backend = this.deps.backend();
    if (this.refuseIfCannotChat(backend, 'chat')) return;
    if (this.active) {
      this.deps.post({ type: 'notice', text: 'An answer is still being generated. Stop it (or wait) before sending another message.' });
      return;
    }
    const settings = this.deps.settings();
    // Templates without a thinking switch ignore it; before a model loads its support is unknown.
    const thinking: ThinkingMode = settings.thinking;
    const fitted = await fitToContext(backend, [...modelMessages(this.conversation), { role: 'user', content: user.prompt ?? user.text }], thinking, settings.maxTokens);
    if ('problem' in fitted) {
      this.deps.post({ type: 'notice', text: fitted.problem });
      return;
    }
    if (fitted.left > 0) this.deps.log.info(`Chat: left ${fitted.left} older message(s) out of the prompt to fit the ${backend.info.contextWindow}-token context window.`);
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
    this.deps.post({ type: 'turnStart', requestId, user });
    if (user.explain) void this.postProgress(requestId, backend, fitted.messages, thinking, settings.maxTokens);
    // The question is on disk before the answer starts: a crash mid-answer loses nothing asked.
    void this.persist(this.conversation);

    const assistantId = randomUUID();
    let lastAnnotation = 0;
    let result: ChatTurnResult | undefined;
    let failure: Error | undefined;
    try {
      const estimateCost = this.deps.estimateCost();
      result = await runChatTurn(backend, { messages: fitted.messages, thinking, temperature: settings.temperature, topP: settings.topP, maxTokens: settings.maxTokens }, active.abort.signal, {
        ...(estimateCost ? { estimateCost } : {}),
        onNotice: (text) => this.settingNotice(text),
        onDelta: (delta) => {
          if (delta.kind === 'reclassify') {
            active.thinking += active.answer;
            active.answer = '';
            this.deps.post({ type: 'reclassify', requestId });
          } else {
            if (delta.kind === 'thinking') active.thinking += delta.text;
            else active.answer += delta.text;
            this.deps.post({ type: 'delta', requestId, part: delta.kind, text: delta.text });
          }
          if (user.explain && Date.now() - lastAnnotation > annotationRefreshMs) {
            lastAnnotation = Date.now();
            this.annotate(user.explain, active.thinking, active.answer, { conversationId, messageId: assistantId });
          }
        },
      });
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
      this.deps.log.error(`Chat generation failed: ${failure.stack ?? failure.message}`);
    } finally {
      this.active = undefined;
    }

    if (result) this.deps.recordUsage?.(user.explain ? 'explain' : 'chat', result.stats);
    const assistant: StoredAssistantMessage = result ? answerMessage(assistantId, result, backend.info.label) : failedAnswerMessage(assistantId, active, failure, backend.info.label);
    // The user may have started a new chat (or cleared history) while this answer streamed: it
    // then belongs to its own conversation on disk, or nowhere.
    const conversation = conversationId === this.conversation.id ? this.conversation : epoch === this.historyEpoch ? await this.deps.history.get(conversationId) : undefined;
    const updated: StoredConversation | undefined = conversation && { ...conversation, updatedAt: Date.now(), messages: [...conversation.messages, assistant] };
    if (updated && conversationId === this.conversation.id) this.conversation = updated;
    if (!this.disposed) this.deps.post({ type: 'turnEnd', requestId, message: assistant });
    if (result?.probabilities) this.keepProbabilities(assistantId, result.probabilities, assistant.stats?.generatedTokens ?? result.probabilities.length);
    if (user.explain) this.annotate(user.explain, assistant.thinking?.text ?? '', assistant.text, { conversationId, messageId: assistantId });
    const stats = assistant.stats;
    this.deps.log.info(`Chat answer ${assistant.stopReason}${stats ? `: ${stats.promptTokens} prompt + ${stats.generatedTokens} generated tokens in ${Math.round(stats.totalMs)} ms` : ''}.`);
    if (updated && epoch === this.historyEpoch) await this.persist(updated);
  }

  /** An explanation's progress line: its prompt's tokens and what it costs on the reference model, before the answer. */
  private async postProgress(requestId: string, backend: ChatBackend, messages: ChatMessage[], thinking: ThinkingMode, maxTokens: number): Promise<void> {
    let promptTokens: number;
    try {
      promptTokens = await backend.countPromptTokens(messages, thinking);
    } catch (error) {
      this.deps.log.debug(`Chat: counting the explanation's prompt failed: ${(error as Error).message}`);
      return;
    }
    const reference = this.deps.referenceModel?.();
    const text = `Explaining: ${promptTokens.toLocaleString('en-US')} prompt tokens${reference ? ` · ${promptCost(promptTokens, maxTokens, reference).text}` : ''}`;
    if (!this.disposed) this.deps.post({ type: 'turnProgress', requestId, text });
  }

  private keepProbabilities(messageId: string, tokens: readonly ChatTokenProbability[], total: number): void {
    this.probabilities.set(messageId, { tokens, total });
    while (this.probabilities.size > keptProbabilityAnswers) this.probabilities.delete(this.probabilities.keys().next().value as string);
    if (!this.disposed) this.deps.post({ type: 'probabilities', messageId, tokens, total });
  }

  /** "tokenscope.chat.topP is 0, ..." / "tokenscope.chat.maxTokens 32768 does not fit ...": said once per setting and value. */
  private settingNotice(text: string): void {
    this.deps.log.info(`Chat: ${text}`);
    const key = text.split(/[,:]/)[0] ?? text;
    if (this.noticedSettings.has(key)) return;
    this.noticedSettings.add(key);
    this.deps.post({ type: 'notice', text: `${text} Change it in Settings.` });
  }

  private annotate(ref: ExplainRef, thinking: string, answer: string, owner: AnnotationOwner): void {
    this.deps.annotate(ref.uri, annotateLines({ thinking, answer }, { start: ref.startLine, end: ref.endLine }), owner);
  }

  private async persist(conversation: StoredConversation): Promise<void> {
    try {
      this.deps.history.setLimit(this.deps.settings().historyLimit);
      await this.deps.history.save(conversation);
    } catch (error) {
      this.deps.log.error(`Chat history could not be saved to ${this.deps.history.path}: ${(error as Error).message}`);
      // The store's messages say what happened and what to do; the conversation stays open in the view.
      this.deps.onSaveFailed(error instanceof HistorySaveError ? error.message : `The chat history could not be saved (${(error as Error).message}).`);
    }
  }

  /** The prompt's size with this text and chips as the next message ("context left" above the input). */
  async measure(measureId: number, text: string, chips: readonly ContextChip[]): Promise<void> {
    const backend = this.deps.backend();
    if (!backend.info.canChat) return;
    const settings = this.deps.settings();
    const content = chips.length > 0 ? withAttachments(text, chips) : text;
    const messages: ChatMessage[] = [...modelMessages(this.conversation), { role: 'user', content }];
    let promptTokens: number;
    try {
      promptTokens = await backend.countPromptTokens(messages, settings.thinking);
    } catch (error) {
      this.deps.log.debug(`Chat: counting prompt tokens failed: ${(error as Error).message}`);
      return;
    }
    const reference = this.deps.referenceModel?.();
    const cost = reference && promptCost(promptTokens, settings.maxTokens, reference).text;
    this.deps.post({ type: 'promptInfo', measureId, promptTokens, contextWindow: backend.info.contextWindow, maxTokens: settings.maxTokens, ...(cost ? { cost } : {}) });
  }

  /** The explain request behind an answer of the current conversation (its citations select lines there). */
  explainRefFor(messageId: string): ExplainRef | undefined {
    return explainRefFor(this.conversation, messageId);
  }

  /** The newest answer in the current conversation (for the command palette's "open trace"). */
  latestAnswerId(): string | undefined {
    return latestAnswerId(this.conversation);
  }

  /** What the trace document shows for an answer: live while it streams, else from history. */
  async findAnswer(conversationId: string, messageId: string): Promise<TraceDocumentInput | undefined> {
    const conversation = conversationId === this.conversation.id ? this.conversation : await this.deps.history.get(conversationId);
    return conversation && traceInputFor(conversation, messageId);
  }

  newChat(): void {
    this.active?.abort.abort();
    this.conversation = emptyConversation();
    this.deps.post({ type: 'conversation', conversation: this.conversation });
  }

  /** Deletes every stored conversation (the glue asked first); an answer still streaming is stopped and not written back. */
  async clearHistory(): Promise<void> {
    this.historyEpoch++;
    this.active?.abort.abort();
    await this.deps.history.clear();
    this.newChat();
  }

  dispose(): void {
    this.disposed = true;
    this.active?.abort.abort();
  }
}
