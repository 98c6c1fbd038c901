import * as vscode from 'vscode';
import type { ChatBackend } from '../../core/chat/backend';
import { ChatHistoryStore } from '../../core/chat/historyStore';
import type { CommandRegistry } from '../commandRegistry';
import type { ModelService } from '../modelService';
import type { ServerService } from '../servers/serverService';
import { ChatViewProvider, chatViewId } from './chatView';
import { affectsSetting, onConfigChange, readConfig, settingsThatReloadModel, updateSetting } from '../config';
import { selectChatBackend } from './backendSelection';
import { ChatController } from './chatController';
import { priceTableFor, referenceCostEstimator } from '../../core/pricing/cost';
import type { UsageRecord } from '../../core/cost/usageLedger';
import { EditorTracker } from './editorTracker';
import { chatRuntimeFrom } from './runtimeBackend';
import { TraceAnnotations } from './traceAnnotations';
import { TraceDocuments, traceScheme } from './traceDocuments';

/** What the chat feature needs from the extension; activate() passes it to registerChat. */
export interface ChatServices {
  readonly log: vscode.LogOutputChannel;
  readonly commands: CommandRegistry;
  /** The shared model process; chat with a model folder runs there. */
  readonly runtime?: ModelService;
  /** Offers a chat model (download + switch) when the built-in model is asked to chat or explain. */
  readonly offerChatModel?: (trigger: 'chat' | 'explain') => boolean;
  /** OpenAI-compatible servers, for `tokenscope.chat.backend: server`. */
  readonly servers?: ServerService;
  /** The usage ledger (the cost feature): each answer's tokens, as chat or explain. */
  readonly recordUsage?: (record: UsageRecord) => void;
}

/**
 * Everything of the chat feature: the sidebar view, Explain Selection, reasoning annotations and
 * trace documents, and their commands. Called once from activate(); all disposables go to the
 * extension's subscriptions.
 */
export function registerChat(context: vscode.ExtensionContext, { log, commands, runtime, offerChatModel, servers, recordUsage }: ChatServices): ChatController {
  const view = new ChatViewProvider(context.extensionUri, log);
  const editors = new EditorTracker();
  const annotations = new TraceAnnotations(log);
  const history = ChatHistoryStore.inFolder(context.globalStorageUri.fsPath, readConfig().chat.historyLimit, { warn: (message) => log.warn(message) });

  const chatRuntime = runtime ? chatRuntimeFrom(runtime) : undefined;
  // The backend follows the model setting; built on first use (activation stays cheap) and
  // rebuilt only when the model changes.
  let backend: ChatBackend | undefined;
  const currentBackend = () => (backend ??= selectChatBackend(readConfig().model, context.extensionPath, log, chatRuntime, servers && { service: servers, onResolved: () => controller?.refreshStatus() }));
  let controller: ChatController | undefined;
  const traces = new TraceDocuments((conversationId, messageId) => controller?.findAnswer(conversationId, messageId) ?? Promise.resolve(undefined));
  controller = new ChatController({
    view,
    log,
    history,
    backend: currentBackend,
    config: () => readConfig(),
    annotations,
    traces,
    editors,
    estimateCost: () => referenceCostEstimator(priceTableFor(readConfig().cost.customModels), readConfig().cost.referenceModel),
    referenceModel: () => priceTableFor(readConfig().cost.customModels).models.find((model) => model.id === readConfig().cost.referenceModel),
    recordUsage: (feature, usage) => recordUsage?.({ feature, backend: readConfig().chat.backend === 'server' ? 'remote' : 'local', promptTokens: usage.promptTokens, generatedTokens: usage.generatedTokens }),
    updateSetting,
    offerChatModel,
  });
  const chat = controller;

  context.subscriptions.push(
    view,
    editors,
    annotations,
    traces,
    chat,
    vscode.window.registerWebviewViewProvider(chatViewId, view, { webviewOptions: { retainContextWhenHidden: true } }),
    vscode.workspace.registerTextDocumentContentProvider(traceScheme, traces),
    onConfigChange((config, event) => {
      if (affectsSetting(event, 'chat.thinking')) log.info(`Chat: thinking set to ${config.chat.thinking}.`);
      if (affectsSetting(event, ...settingsThatReloadModel, 'chat.testBackend', 'chat.backend', 'chat.serverUrl', 'chat.serverModel', 'server')) backend = undefined;
      if (affectsSetting(event, 'chat', ...settingsThatReloadModel)) chat.refreshStatus();
    }),
  );

  // What the model can do (chat template, thinking, context window) is known once it has loaded.
  if (runtime) context.subscriptions.push(runtime.onDidChangeState(() => chat.refreshStatus()));
  // A new API key, headers or proxy: the server backend is rebuilt on its next use.
  if (servers)
    context.subscriptions.push(
      servers.onDidChange(() => {
        if (readConfig().chat.backend === 'server') backend = undefined;
      }),
    );

  commands.register('tokenscope.explainSelection', () => chat.explain(vscode.window.activeTextEditor ?? editors.editor));
  commands.register('tokenscope.newChat', async () => {
    await view.reveal();
    chat.newChat();
  });
  commands.register('tokenscope.clearChatHistory', () => chat.clearHistory());
  commands.register('tokenscope.clearTraceAnnotations', () => annotations.clear());
  // Not in the palette: used by annotation hovers and the chat ("Open trace"), with ids as arguments.
  commands.register('tokenscope.openTrace', async (conversationId?: unknown, messageId?: unknown) => {
    const answerId = typeof messageId === 'string' ? messageId : chat.latestAnswerId();
    if (!answerId) {
      void vscode.window.showInformationMessage('Tokenscope: no answer to show a trace for yet. Ask something in the chat first.');
      return;
    }
    await chat.openTrace(typeof conversationId === 'string' ? conversationId : chat.conversationId, answerId);
  });
  return chat;
}
