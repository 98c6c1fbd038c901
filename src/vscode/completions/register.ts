import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CompletionEngine, type CompletionModel, type CompletionRecord, type CompletionResult } from '../../core/completions/engine';
import { CompletionModelCache, type LoadedModelInfo } from '../../core/completions/model';
import type { GenerationSource } from '../../core/completions/runtimeBackend';
import type { DocumentLines } from '../../core/completions/document';
import { costEstimatorFromPriceTable, type CostEstimator } from '../../core/completions/cost';
import { buildPriceTable } from '../../core/pricing/cost';
import { ExtraContextBuffer } from '../../core/completions/extraContext';
import { ModelProcessStoppedError, type ModelProcessState } from '../../core/runtime/modelProcessClient';
import type { CommandRegistry } from '../commandRegistry';
import { onConfigChange, readConfig, type TokenscopeConfig } from '../config';
import type { ModelState, ModelStatusItem } from '../statusBar';
import { remoteCompletionModel } from '../../core/openai/remoteCompletionBackend';
import type { ServerService } from '../serverCommands';
import { abortSignalFrom } from './cancellation';

/** What the completion glue needs from the extension; the lead's activate() passes it. */
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
  /** Receives every model request's record (cost features); optional. */
  readonly onRecord?: (record: CompletionRecord) => void;
  /** OpenAI-compatible servers, for `tokenscope.completions.backend: server`. */
  readonly servers?: ServerService;
}

/** Internal command run by VS Code after a suggestion is accepted (item.command). */
const acceptedCommand = 'tokenscope.completionAccepted';

/** A VS Code document seen through the core's line interface: no full-text copy per keystroke. */
function documentLines(document: vscode.TextDocument): DocumentLines {
  return { lineCount: document.lineCount, lineText: (line) => document.lineAt(line).text };
}

function engineSettings(config: TokenscopeConfig) {
  const c = config.completions;
  return { debounceMs: c.debounceMs, maxTokens: c.maxTokens, linesBefore: c.linesBefore, linesAfter: c.linesAfter, triggerInMiddleOfWord: c.triggerInMiddleOfWord, extraContext: c.extraContext, minConfidence: c.minConfidence };
}

/**
 * Registers inline completions: the provider for every file, the explicit trigger command
 * (Alt+\), speculative pre-computation after an accept, extra context from other files, and the
 * status bar (generating while a request runs, then idle with latency and tokens/s, or error with
 * the reason). Returns a Disposable that is also pushed to context.subscriptions.
 */
export function registerCompletions(context: vscode.ExtensionContext, services: CompletionServices): vscode.Disposable {
  const { log, status, commands } = services;
  const disposables: vscode.Disposable[] = [];
  const extraContext = new ExtraContextBuffer();
  let enabled = readConfig().completions.enabled;
  let lastError: string | undefined;
  // Idle keeps showing the last completion's latency and speed.
  let lastIdle: ModelState = { kind: 'idle' };
  const restingState = (): ModelState => (enabled ? lastIdle : { kind: 'disabled' });
  /** The idle state after a model answer: its latency, speed and confidence (and the bar it missed, if hidden). */
  const idleAfter = (result: CompletionResult, hiddenBelow?: number): ModelState => ({
    kind: 'idle',
    lastLatencyMs: result.latencyMs,
    tokensPerSecond: result.tokensPerSecond,
    confidence: result.confidence,
    hiddenBelow,
    noConfidence: result.noConfidence,
  });

  /** The status for a failed request: a stopped model process offers "Restart Model Process" on click. */
  const errorState = (error: unknown): ModelState =>
    error instanceof ModelProcessStoppedError ? { kind: 'error', reason: error.message, action: 'restartModel' } : { kind: 'error', reason: error instanceof Error ? error.message : String(error) };
  if (services.runtime.onDidChangeState) {
    let stopped = false;
    disposables.push(
      services.runtime.onDidChangeState((state) => {
        if (state.status === 'failed') {
          stopped = true;
          status.setState(errorState(state.error));
        } else if (stopped && (state.status === 'starting' || state.status === 'loading')) {
          status.setState({ kind: 'loading' });
        } else if (stopped && state.status === 'ready') {
          stopped = false;
          lastError = undefined;
          status.setState(restingState());
        }
      }),
    );
  }

  const announced = new Set<string>();
  /** Model requests running (a superseded one may still be winding down while its successor runs). */
  let activeRequests = 0;
  const pricedCosts = () => costEstimatorFromPriceTable(buildPriceTable(readConfig().cost.customModels).models);
  let costs: CostEstimator = services.costs ?? pricedCosts();
  // Tokenizers load and prompts encode in a worker thread (dist/promptWorker.js): a 7 MB tokenizer.json
  // would otherwise stall the extension host for most of a second.
  const workerEntry = context.asAbsolutePath(join('dist', 'promptWorker.js'));
  const worker = existsSync(workerEntry) ? { entry: workerEntry } : undefined;
  if (!worker) log.warn(`${workerEntry} is missing: completion prompts are built on the extension host's thread (rebuild with node esbuild.mjs).`);
  const models = new CompletionModelCache(services.runtime.client, { worker });
  disposables.push({ dispose: () => models.dispose() });
  /** The server model for `completions.backend: server`, built once per server, model and prompt form. */
  let remote: { readonly key: string; readonly model: Promise<CompletionModel> } | undefined;
  let serverGeneration = 0;
  if (services.servers) disposables.push(services.servers.onDidChange(() => serverGeneration++));
  const disposeRemote = () => void remote?.model.then((model) => model.prompts.dispose?.(), () => undefined);
  disposables.push({ dispose: disposeRemote });
  const remoteModel = async (config: TokenscopeConfig): Promise<CompletionModel> => {
    const servers = services.servers;
    const { serverUrl, serverModel } = config.completions;
    if (!servers || !serverUrl) throw new Error('tokenscope.completions.backend is "server" but no server is set (tokenscope.completions.serverUrl): run "Tokenscope: Connect to a Server…", or set the backend back to "local".');
    await servers.ensureAllowed(serverUrl, false);
    const key = `${serverUrl}|${serverModel}|${config.server.completionPrompt}|${serverGeneration}`;
    if (remote?.key !== key) {
      disposeRemote();
      const model = (async () => remoteCompletionModel({ connection: await servers.connection(serverUrl), model: serverModel, preference: config.server.completionPrompt, worker, onChoice: (line) => log.info(line) }))();
      const entry = { key, model };
      // A failure (server down) is retried on the next request, not remembered.
      model.catch(() => {
        if (remote === entry) remote = undefined;
      });
      remote = entry;
    }
    return remote.model;
  };
  /**
   * The model for a request. While it loads (first use, a model switch, a restart after a crash)
   * the status says so; it always leaves `loading` again, whatever happens.
   */
  const getModel = async (): Promise<CompletionModel> => {
    let loading = false;
    const showLoading = setTimeout(() => {
      loading = true;
      status.setState({ kind: 'loading' });
    }, 50);
    try {
      const config = readConfig();
      if (config.completions.backend === 'server') return await remoteModel(config);
      return await models.forInfo(await services.runtime.ensureLoaded());
    } finally {
      // On failure the provider then shows the error state with the reason.
      clearTimeout(showLoading);
      if (loading) status.setState(restingState());
    }
  };

  const engine = new CompletionEngine({
    getModel,
    settings: engineSettings(readConfig()),
    extraContext,
    costs: (usage) => costs(usage),
    onRecord: (record) => {
      const line = `completion ${record.outcome}: ${record.promptTokens} prompt + ${record.generatedTokens} generated tokens in ${record.latencyMs.toFixed(0)} ms (${record.template}${record.speculative ? ', speculative' : ''}${record.reusedPromptTokens !== undefined ? `, ${record.reusedPromptTokens} prompt tokens reused` : ''})`;
      // The first answer (and the first empty one) of each template is logged at info level, so the log
      // says that completions run, and why nothing shows if the model has nothing to suggest; the rest is debug.
      const kind = `${record.template}:${record.outcome}`;
      if ((record.outcome === 'completed' || record.outcome === 'empty') && !announced.has(kind)) {
        announced.add(kind);
        log.info(record.outcome === 'empty' ? `First ${line}: the model's answer was empty after post-processing (stop token, loop or whitespace), so no ghost text.` : `First ${line}`);
      } else {
        log.debug(line);
      }
      services.onRecord?.(record);
    },
    onHiddenUnsure: (result, minConfidence) => {
      // Never silent: the status bar says a suggestion was withheld, how sure the model was, and how to see it.
      lastIdle = idleAfter(result, minConfidence);
      if (activeRequests === 0) status.setState(restingState());
      log.debug(`completion hidden: confidence ${(result.confidence ?? 0).toFixed(3)} < minConfidence ${minConfidence}`);
    },
    onRequestStart: () => {
      activeRequests++;
      status.setState({ kind: 'generating' });
    },
    onRequestEnd: ({ result, error, cancelled }) => {
      activeRequests = Math.max(0, activeRequests - 1);
      if (error) {
        status.setState(errorState(error));
        return;
      }
      if (result && !cancelled && enabled) {
        lastError = undefined;
        lastIdle = idleAfter(result);
      }
      // A superseded request ends after its successor started: the successor still generates.
      status.setState(activeRequests > 0 ? { kind: 'generating' } : restingState());
    },
  });
  disposables.push({ dispose: () => engine.dispose() });

  /** Results shown recently, so the accept command can find what was accepted. */
  const shown = new Map<string, CompletionResult>();

  const provider: vscode.InlineCompletionItemProvider = {
    async provideInlineCompletionItems(document, position, completionContext, token) {
      const explicit = completionContext.triggerKind === vscode.InlineCompletionTriggerKind.Invoke;
      if (!enabled && !explicit) return undefined;
      // The suggest widget is open: its selection, not ghost text, is what the user is choosing.
      if (completionContext.selectedCompletionInfo && !explicit) return undefined;
      const { signal, dispose } = abortSignalFrom(token);
      try {
        const result = await engine.complete(
          { document: documentLines(document), position: { line: position.line, character: position.character }, path: vscode.workspace.asRelativePath(document.uri), trigger: explicit ? 'explicit' : 'automatic', repoName: vscode.workspace.name },
          signal,
        );
        if (!result || signal.aborted) return undefined;
        // A shown suggestion (from the cache, typing along, or asked for explicitly) replaces a "hidden" notice.
        if (lastIdle.kind === 'idle' && (lastIdle.hiddenBelow !== undefined || lastIdle.confidence !== result.confidence)) {
          lastIdle = { ...lastIdle, confidence: result.confidence, hiddenBelow: undefined };
          if (activeRequests === 0) status.setState(restingState());
        }
        if (result.source !== 'model' && result.source !== 'speculative') log.trace(`completion from ${result.source} in ${result.latencyMs.toFixed(1)} ms`);
        shown.set(result.key, result);
        if (shown.size > 32) shown.delete(shown.keys().next().value as string);
        const item = new vscode.InlineCompletionItem(result.text, new vscode.Range(position, position), { title: 'Accepted', command: acceptedCommand, arguments: [result.key] });
        return [item];
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        status.setState(errorState(error));
        // A stopped model process was logged and announced once, with "Restart Model Process", when it stopped.
        if (error instanceof ModelProcessStoppedError) return undefined;
        log.error(`Inline completion failed: ${error instanceof Error && error.stack ? error.stack : reason}`);
        // Say it once per distinct reason: completions never firing without explanation is what users hate.
        if (reason !== lastError) {
          lastError = reason;
          void vscode.window.showWarningMessage(`Tokenscope completions: ${reason}`, 'Show Logs').then((choice) => {
            if (choice) log.show(true);
          });
        }
        return undefined;
      } finally {
        dispose();
      }
    },
  };
  disposables.push(vscode.languages.registerInlineCompletionItemProvider({ pattern: '**' }, provider));

  commands.register('tokenscope.triggerCompletion', () => vscode.commands.executeCommand('editor.action.inlineSuggest.trigger'));
  commands.register(acceptedCommand, (key: unknown) => {
    const result = typeof key === 'string' ? shown.get(key) : undefined;
    const editor = vscode.window.activeTextEditor;
    if (!result || !editor) return;
    const document = editor.document;
    // VS Code runs this after inserting the suggestion: the cursor sits after it, so the next suggestion can be prepared now.
    engine.accept(result, { document: documentLines(document), position: editor.selection.active, path: vscode.workspace.asRelativePath(document.uri), repoName: vscode.workspace.name });
  });

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
  );

  disposables.push(
    onConfigChange((config, event) => {
      enabled = config.completions.enabled;
      if (!services.costs && event.affectsConfiguration('tokenscope.cost')) costs = pricedCosts();
      engine.updateSettings(engineSettings(config));
      if (event.affectsConfiguration('tokenscope.model') || event.affectsConfiguration('tokenscope.modelVariant') || event.affectsConfiguration('tokenscope.completions.backend') || event.affectsConfiguration('tokenscope.completions.serverUrl') || event.affectsConfiguration('tokenscope.completions.serverModel') || event.affectsConfiguration('tokenscope.server')) {
        engine.clearCache();
        extraContext.clear();
      }
    }),
  );

  const disposable = vscode.Disposable.from(...disposables);
  context.subscriptions.push(disposable);
  log.info('Inline completions registered for all files (Alt+\\ to ask explicitly).');
  return disposable;
}
