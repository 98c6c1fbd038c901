import * as vscode from 'vscode';
import { CompletionEngine } from '../../core/completions/engine';
import type { CompletionModel, CompletionResult } from '../../core/completions/types';
import { CompletionModelCache } from '../../core/completions/model';
import type { DocumentLines } from '../../core/completions/document';
import { costEstimator, priceTableFor, type CostEstimator } from '../../core/pricing/cost';
import type { ExtraContextBuffer } from '../../core/completions/extraContext';
import type { CompletionStatus, CompletionStatusEvent } from '../../core/completions/status';
import { ModelProcessStoppedError } from '../../core/modelProcess/client';
import { affectsSetting, onConfigChange, readConfig, settingId, settingsThatReloadModel, type TokenscopeConfig } from '../config';
import { remoteCompletionModel } from '../../core/openai/remoteCompletionBackend';
import { abortSignalFrom } from './cancellation';
import type { CompletionServices } from './register';

/** A VS Code document seen through the core's line interface: no full-text copy per keystroke. */
function documentLines(document: vscode.TextDocument): DocumentLines {
  return { lineCount: document.lineCount, lineText: (line) => document.lineAt(line).text };
}

function engineSettings(config: TokenscopeConfig) {
  const c = config.completions;
  return { debounceMs: c.debounceMs, maxTokens: c.maxTokens, linesBefore: c.linesBefore, linesAfter: c.linesAfter, triggerInMiddleOfWord: c.triggerInMiddleOfWord, extraContext: c.extraContext, minConfidence: c.minConfidence };
}

/** The status item's state machine, owned by register.ts (it outlives and precedes this feature). */
export interface CompletionStatusReporter {
  report(event: CompletionStatusEvent): void;
  current(): CompletionStatus;
}

/** The loaded completions: what register.ts delegates to. */
export interface Completions extends vscode.Disposable {
  readonly provider: vscode.InlineCompletionItemProvider;
  /** A suggestion was accepted (the internal command's argument is its key). */
  accepted(key: unknown): void;
}

/**
 * Inline completions, loaded from their own bundle (dist/completions.js) on the first request: the
 * engine with its model cache, the provider, speculative pre-computation after an accept, and the
 * status bar (generating while a request runs, then idle with latency and tokens/s, a held-back
 * notice, or the error with the reason).
 */
export function createCompletions(services: CompletionServices, extraContext: ExtraContextBuffer, acceptedCommand: string, reporter: CompletionStatusReporter): Completions {
  const { log } = services;
  const disposables: vscode.Disposable[] = [];
  let enabled = readConfig().completions.enabled;
  let lastError: string | undefined;
  const report = (event: CompletionStatusEvent) => reporter.report(event);
  if (services.runtime.onDidChangeState) {
    // Back after a stop: a later failure is news again, so it is announced again.
    disposables.push(
      services.runtime.onDidChangeState((state) => {
        if (state.status === 'ready') lastError = undefined;
      }),
    );
  }
  /** The last held-back suggestion logged (VS Code asks again at the same spot: say it once). */
  let loggedHeldBack: string | undefined;

  const announced = new Set<string>();
  const pricedCosts = () => costEstimator(priceTableFor(readConfig().cost.customModels).models);
  let costs: CostEstimator = services.costs ?? pricedCosts();
  // The model's tokenizer loads and prompts encode in the tokenizer worker thread (shared with the
  // Token lens): a 7 MB tokenizer.json would otherwise stall the extension host for most of a second.
  const models = new CompletionModelCache(services.runtime.client, { worker: services.tokenizerWorker });
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
    if (!servers || !serverUrl) throw new Error(`${settingId('completions.backend')} is "server" but no server is set (${settingId('completions.serverUrl')}): run "Tokenscope: Connect to a Server…", or set the backend back to "local".`);
    await servers.ensureAllowed(serverUrl, false);
    const key = `${serverUrl}|${serverModel}|${config.server.completionPrompt}|${serverGeneration}`;
    if (remote?.key !== key) {
      disposeRemote();
      const model = (async () => remoteCompletionModel({ connection: await servers.connection(serverUrl), model: serverModel, preference: config.server.completionPrompt, worker: services.tokenizerWorker, onChoice: (line) => log.info(line) }))();
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
      report({ type: 'loading', loading: true });
    }, 50);
    try {
      const config = readConfig();
      if (config.completions.backend === 'server') return await remoteModel(config);
      return await models.forInfo(await services.runtime.ensureLoaded());
    } finally {
      // On failure the provider then shows the error state with the reason.
      clearTimeout(showLoading);
      if (loading) report({ type: 'loading', loading: false });
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
      report({ type: 'heldBack', result, minConfidence });
      if (loggedHeldBack !== result.key) {
        loggedHeldBack = result.key;
        log.info(`Suggestion held back (${result.source}): the model was ${Math.round((result.confidence ?? 0) * 100)}% sure, below tokenscope.completions.minConfidence (${Math.round(minConfidence * 100)}%). Alt+\\ shows it.`);
      }
    },
    onRequestStart: () => report({ type: 'requestStarted' }),
    onRequestEnd: ({ result, error, cancelled }) => {
      const reason = error === undefined ? undefined : error instanceof Error ? error.message : String(error);
      if (reason === undefined && result && !cancelled) lastError = undefined;
      report({ type: 'requestEnded', result, error: reason, errorAction: error instanceof ModelProcessStoppedError ? 'restartModel' : undefined, cancelled });
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
        // What is shown now (generated, from the cache, typing along, prepared ahead) is what the status describes.
        report({ type: 'shown', result });
        if (result.source !== 'model' && result.source !== 'speculative') log.trace(`completion from ${result.source} in ${result.latencyMs.toFixed(1)} ms`);
        shown.set(result.key, result);
        if (shown.size > 32) shown.delete(shown.keys().next().value as string);
        const item = new vscode.InlineCompletionItem(result.text, new vscode.Range(position, position), { title: 'Accepted', command: acceptedCommand, arguments: [result.key] });
        return [item];
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        report({ type: 'failed', reason, errorAction: error instanceof ModelProcessStoppedError ? 'restartModel' : undefined });
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
  const accepted = (key: unknown) => {
    const result = typeof key === 'string' ? shown.get(key) : undefined;
    const editor = vscode.window.activeTextEditor;
    if (!result || !editor) return;
    const document = editor.document;
    // VS Code runs this after inserting the suggestion: the cursor sits after it, so the next suggestion can be prepared now.
    engine.accept(result, { document: documentLines(document), position: editor.selection.active, path: vscode.workspace.asRelativePath(document.uri), repoName: vscode.workspace.name });
    const insertStart = document.offsetAt(editor.selection.active) - result.text.length;
    if (insertStart >= 0 && document.getText(new vscode.Range(document.positionAt(insertStart), editor.selection.active)) === result.text) services.onAccepted?.(document, insertStart, result);
  };

  disposables.push(
    onConfigChange((config, event) => {
      enabled = config.completions.enabled;
      if (!services.costs && affectsSetting(event, 'cost')) costs = pricedCosts();
      engine.updateSettings(engineSettings(config));
      const backendChanged = affectsSetting(event, ...settingsThatReloadModel, 'completions.backend', 'completions.serverUrl', 'completions.serverModel', 'server');
      if (backendChanged) {
        engine.clearCache();
        extraContext.clear();
        report({ type: 'modelChanged' });
      }
    }),
  );

  return { provider, accepted, dispose: () => vscode.Disposable.from(...disposables).dispose() };
}
