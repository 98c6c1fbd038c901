import * as vscode from 'vscode';
import { ExtraContextBuffer } from '../../core/completions/extraContext';
import { completionStatusView, initialCompletionStatus, nextCompletionStatus, type CompletionStatus, type CompletionStatusEvent } from '../../core/completions/status';
import { affectsSetting, onConfigChange, readConfig } from '../config';
import { lazyModule } from '../lazyModule';
import type { CostEstimator } from '../../core/pricing/cost';
import type { LoadedModelInfo } from '../../core/completions/model';
import type { GenerationSource } from '../../core/completions/runtimeBackend';
import type { CompletionRecord, CompletionResult } from '../../core/completions/types';
import type { ModelProcessState } from '../../core/modelProcess/client';
import type { TokenizerWorkerClient } from '../../core/tokenizerWorker/client';
import type { CommandRegistry } from '../commandRegistry';
import type { ServerService } from '../servers/serverService';
import type { ModelStatusItem } from '../statusBar';
import type { Completions, CompletionStatusReporter } from './feature';

/** What the completion glue needs from the extension; activate() passes it to registerCompletions. */
export interface CompletionServices {
  readonly log: vscode.LogOutputChannel;
  readonly status: ModelStatusItem;
  readonly commands: CommandRegistry;
  /**
   * The model runtime; the extension's ModelService fits as it is. `client` generates (the
   * ModelProcessClient), `ensureLoaded()` resolves the configured model's info, loading it in the
   * model process if needed, and rejects with a message for the user (missing, failed, crashed).
   */
  readonly runtime: {
    readonly client: GenerationSource;
    ensureLoaded(): Promise<LoadedModelInfo>;
    /** The model process's states: a stopped process shows in the status bar even with no request running. */
    onDidChangeState?(listener: (state: ModelProcessState) => void): vscode.Disposable;
  };
  /** What the same tokens would cost on priced APIs; default: the pricing core's table with tokenscope.cost.customModels. */
  readonly costs?: CostEstimator;
  /** Where prompts are built with the model's tokenizer (the extension's one tokenizer worker); without it, on this thread. */
  readonly tokenizerWorker?: Pick<TokenizerWorkerClient, 'promptBuilder'>;
  /** Receives every model request's record (cost features); optional. */
  readonly onRecord?: (record: CompletionRecord) => void;
  /** OpenAI-compatible servers, for `tokenscope.completions.backend: server`. */
  readonly servers?: ServerService;
  /** An accepted suggestion, inserted at `insertStart` (confidence colouring). */
  readonly onAccepted?: (document: vscode.TextDocument, insertStart: number, result: CompletionResult) => void;
}


/** Internal command run by VS Code after a suggestion is accepted (each item names it). */
const acceptedCommand = 'tokenscope.completionAccepted';

/**
 * Registers inline completions: the provider for every file, the explicit trigger command (Alt+\),
 * the accept command, and the extra context gathered from other files from the start. The engine
 * itself (feature.ts) loads from its own bundle (dist/completions.js) on the first request, so
 * activation does not compile it. Returns a Disposable that is also pushed to context.subscriptions.
 */
export function registerCompletions(context: vscode.ExtensionContext, services: CompletionServices): vscode.Disposable {
  const { log, status, commands } = services;
  const disposables: vscode.Disposable[] = [];
  const extraContext = new ExtraContextBuffer();
  // The status item is a pure function of completion events (src/core/completions/status.ts). It
  // lives here, not in the lazily loaded feature, so that what happens before the first completion
  // (completions switched off, the model process stopping after crashes in chat) shows too.
  let statusState: CompletionStatus = nextCompletionStatus(initialCompletionStatus, { type: 'enabled', enabled: readConfig().completions.enabled });
  const reporter: CompletionStatusReporter = {
    report(event: CompletionStatusEvent) {
      statusState = nextCompletionStatus(statusState, event);
      status.setState(completionStatusView(statusState));
    },
    current: () => statusState,
  };
  status.setState(completionStatusView(statusState));
  if (services.runtime.onDidChangeState) {
    disposables.push(
      services.runtime.onDidChangeState((state) => {
        if (state.status === 'failed') reporter.report({ type: 'process', status: 'stopped', reason: state.error.message });
        else if (state.status === 'starting' || state.status === 'loading') reporter.report({ type: 'process', status: 'recovering' });
        else if (state.status === 'ready') reporter.report({ type: 'process', status: 'ready' });
      }),
    );
  }

  const feature = lazyModule<typeof import('./feature')>(context.extensionPath, 'completions');
  let completions: Completions | undefined;
  const load = (): Completions => {
    if (!completions) {
      completions = feature().createCompletions(services, extraContext, acceptedCommand, reporter);
      disposables.push(completions);
    }
    return completions;
  };

  const provider: vscode.InlineCompletionItemProvider = {
    provideInlineCompletionItems(document, position, completionContext, token) {
      // Switched off and not asked for explicitly: nothing to load.
      if (!completions && !readConfig().completions.enabled && completionContext.triggerKind !== vscode.InlineCompletionTriggerKind.Invoke) return undefined;
      return load().provider.provideInlineCompletionItems(document, position, completionContext, token);
    },
  };
  disposables.push(vscode.languages.registerInlineCompletionItemProvider({ pattern: '**' }, provider));
  commands.register('tokenscope.triggerCompletion', () => vscode.commands.executeCommand('editor.action.inlineSuggest.trigger'));
  commands.register(acceptedCommand, (key: unknown) => completions?.accepted(key));

  // Extra context: the region the user just left in another file, and files saved while open.
  const rememberEditor = (editor: vscode.TextEditor | undefined) => {
    if (!editor || editor.document.uri.scheme === 'output') return;
    const document = editor.document;
    const lines: string[] = [];
    const line = editor.selection.active.line;
    const from = Math.max(0, line - extraContext.options.chunkLines);
    const to = Math.min(document.lineCount, line + extraContext.options.chunkLines);
    for (let index = from; index < to; index++) lines.push(document.lineAt(index).text);
    extraContext.addFromLines(vscode.workspace.asRelativePath(document.uri), lines, line - from);
  };
  let activeEditor = vscode.window.activeTextEditor;
  disposables.push(
    vscode.window.onDidChangeActiveTextEditor((editor) => {
      rememberEditor(activeEditor);
      activeEditor = editor;
    }),
    vscode.workspace.onDidSaveTextDocument((document) => {
      const editor = vscode.window.visibleTextEditors.find((candidate) => candidate.document === document);
      if (editor) rememberEditor(editor);
    }),
    onConfigChange((_config, event) => {
      if (affectsSetting(event, 'completions.enabled')) reporter.report({ type: 'enabled', enabled: readConfig().completions.enabled });
    }),
  );

  const disposable = { dispose: () => vscode.Disposable.from(...disposables).dispose() };
  context.subscriptions.push(disposable);
  log.info('Inline completions registered for all files (Alt+\\ to ask explicitly).');
  return disposable;
}
