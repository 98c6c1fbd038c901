import * as vscode from 'vscode';
import { join } from 'node:path';
import { ModelProcessClient, ModelProcessStoppedError, type ModelProcessState } from '../core/modelProcess/client';
import { sameLoadRequest, type LoadModelRequest, type ModelInfo, type RuntimeLogger } from '../core/runtime/types';
import { readConfig, type TokenscopeConfig } from './config';

/** The runtime's structured log lines go to the extension's LogOutputChannel. */
function runtimeLogger(log: vscode.LogOutputChannel): RuntimeLogger {
  const format = (message: string, data?: Readonly<Record<string, unknown>>) => (data && Object.keys(data).length > 0 ? `${message} ${JSON.stringify(data)}` : message);
  return {
    debug: (message, data) => log.debug(format(message, data)),
    info: (message, data) => log.info(format(message, data)),
    warn: (message, data) => log.warn(format(message, data)),
    error: (message, data) => log.error(format(message, data)),
  };
}

function loadRequestFor(config: TokenscopeConfig): LoadModelRequest {
  return { model: config.model, variant: config.modelVariant, threads: config.runtimeThreads, matmulPrecision: config.runtimeMatmulPrecision };
}

/** The button that runs "Tokenscope: Restart Model Process". */
export const restartModelAction = 'Restart Model Process';

/**
 * The one model process of the extension and the model loaded in it. Completions, chat and
 * explanations all go through here, so there is never a second process or a second copy of the
 * weights. The process is forked lazily on first use (activation stays cheap) and loads whatever
 * `tokenscope.model` names; a settings change loads the new model in the same process.
 */
export class ModelService implements vscode.Disposable {
  readonly client: ModelProcessClient;
  private loading: { request: LoadModelRequest; promise: Promise<ModelInfo> } | undefined;
  private loaded: LoadModelRequest | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(extensionPath: string, private readonly log: vscode.LogOutputChannel) {
    // Below normal: a forward pass fills every core it is given, and this host (and the editor with
    // it) must win the CPU back at once whenever both want it (npm run bench -- probabilities).
    this.client = new ModelProcessClient({ entry: join(extensionPath, 'dist', 'modelProcess.js'), packageRoot: extensionPath, logger: runtimeLogger(log), priority: 'below-normal' });
    const stateListener = this.client.onDidChangeState((state) => this.onState(state));
    const crashListener = this.client.onDidCrash((crash) => {
      const restart = crash.restartInMs === undefined ? 'It will not restart by itself: run "Tokenscope: Restart Model Process".' : `Restarting in ${(crash.restartInMs / 1000).toFixed(1)} s.`;
      log.error(`The model process stopped (${crash.reason}); ${crash.failedRequests} request(s) failed. ${restart}`);
    });
    this.disposables.push({ dispose: () => stateListener.dispose() }, { dispose: () => crashListener.dispose() });
  }

  /** Fires with every state change of the model process (loading, ready, error, restarting…). */
  onDidChangeState(listener: (state: ModelProcessState) => void): vscode.Disposable {
    const subscription = this.client.onDidChangeState(listener);
    return { dispose: () => subscription.dispose() };
  }

  /**
   * The configured model's info, loading it first if it is not the one in the process. Concurrent
   * callers share one load; a failed load rejects with the runtime's message (what is wrong, what
   * to do) and the next call tries again.
   */
  ensureLoaded(): Promise<ModelInfo> {
    const request = loadRequestFor(readConfig());
    const ready = this.client.model;
    if (ready && this.loaded && sameLoadRequest(this.loaded, request)) return Promise.resolve(ready);
    if (this.loading && sameLoadRequest(this.loading.request, request)) return this.loading.promise;
    const started = performance.now();
    const promise = this.client.load(request).then(
      (info) => {
        this.loaded = request;
        this.log.info(`Loaded ${info.label} (${info.variant}, ${info.numLayers} layers, ${(info.weightBytes / 1e6).toFixed(1)} MB, ${info.threads} threads) in ${(performance.now() - started).toFixed(0)} ms.`);
        return info;
      },
      (error: unknown) => {
        this.loaded = undefined;
        // A stopped process was logged (and announced) once when it stopped, not once per request.
        if (!(error instanceof ModelProcessStoppedError)) this.log.error(`Loading model "${request.model}" failed: ${error instanceof Error ? error.message : String(error)}`);
        throw error;
      },
    );
    const entry = { request, promise };
    this.loading = entry;
    const clear = () => {
      if (this.loading === entry) this.loading = undefined;
    };
    promise.then(clear, clear);
    return promise;
  }

  /** Kills and restarts the process, reloading the model (the user's way out of a stuck state). */
  async restart(): Promise<void> {
    this.log.info('Restarting the model process.');
    await this.client.restart();
  }

  private onState(state: ModelProcessState): void {
    if (state.status === 'error' || state.status === 'failed') this.log.error(`Model: ${state.error.message}`);
    else this.log.debug(`Model process: ${state.status}`);
    // Restarting stopped: said once, here, with the way out (requests failing with the same error stay quiet).
    if (state.status === 'failed') {
      void vscode.window.showErrorMessage(`Tokenscope: ${state.error.message}`, restartModelAction, 'Show Logs').then((choice) => {
        if (choice === restartModelAction) void vscode.commands.executeCommand('tokenscope.restartModel');
        else if (choice) this.log.show(true);
      });
    }
  }

  dispose(): void {
    for (const disposable of this.disposables.splice(0)) disposable.dispose();
    void this.client.dispose();
  }
}
