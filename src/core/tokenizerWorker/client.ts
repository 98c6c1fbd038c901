/**
 * The extension host's side of the tokenizer worker (protocol.ts): starts the thread on first use,
 * sends typed requests and settles every one of them (a crashed worker rejects what was pending and
 * is started again by the next request), mirrors documents into it, and builds completion prompts
 * there. An idle worker never keeps its process alive (the CLI, a test).
 */
import { Worker } from 'node:worker_threads';
import type { FimTemplate } from '../completions/fimTemplates';
import type { PromptBuilder } from '../completions/promptBuilder';
import {
  tokenizerKey,
  type HostToWorker,
  type ParamsOf,
  type ResultOf,
  type TextChange,
  type TokenizerDescription,
  type TokenizerSpec,
  type TokenizerWorkerData,
  type TokenizerWorkerMethod,
  type WorkerToHost,
} from './protocol';

export interface TokenizerWorkerOptions {
  /**
   * The worker entry: `<extension>/dist/tokenizerWorker.js`; a `.ts` entry (tests, benchmark) is
   * loaded through tsx's CommonJS hooks, which must then be installed.
   */
  readonly entry: string;
  /** Where the registry finds the built-in tokenizers' files (the extension root). */
  readonly rootDir: string;
  readonly log?: (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;
}

/** The worker does not hold the document version a request was made for (the client resends it). */
export class StaleDocumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StaleDocumentError';
  }
}

function startWorker(entry: string, data: TokenizerWorkerData): Worker {
  if (!entry.endsWith('.ts')) return new Worker(entry, { workerData: data });
  // ESM loader hooks from `--import tsx` do not reach worker threads; tsx's CommonJS register does.
  return new Worker(`require('tsx/cjs'); require(${JSON.stringify(entry)});`, { eval: true, workerData: data });
}

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
}

export class TokenizerWorkerClient {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private disposed = false;
  /** What the current worker holds of each document: its version and tracked tokenizer. */
  private readonly mirrored = new Map<string, { version: number; tracked?: string }>();
  private readonly listeners = new Set<(key: string) => void>();
  /** Tokenizers the worker has loaded (by key), and the ones it could not load, with the reason. */
  readonly loaded = new Map<string, TokenizerDescription>();
  readonly failed = new Map<string, string>();
  /** Milliseconds the host spent starting worker threads (new Worker is synchronous). */
  startMs = 0;

  constructor(private readonly options: TokenizerWorkerOptions) {}

  /** Starts the thread now (it starts on the first request otherwise). */
  start(): void {
    this.ensureWorker();
  }

  /** Fires with a tokenizer's key when it finished loading or failed to. */
  onLoaded(listener: (key: string) => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  request<M extends TokenizerWorkerMethod>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>> {
    if (this.disposed) return Promise.reject(new Error('The tokenizer worker was stopped.'));
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise<ResultOf<M>>((resolve, reject) => {
      // Referenced only while a request is pending: waiting keeps the process alive, an idle worker does not.
      if (this.pending.size === 0) worker.ref();
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.post({ type: 'request', id, method, params } as HostToWorker);
    });
  }

  /** Loads these tokenizers in the background, in order (replies come as onLoaded). */
  preload(tokenizers: readonly TokenizerSpec[]): void {
    if (this.disposed) return;
    this.ensureWorker();
    this.post({ type: 'preload', tokenizers });
  }

  /**
   * Makes the worker hold this version of a document (tracked in `tokenizer`, or only counted), sending
   * the text only when it does not. Cheap when it already does.
   */
  syncDocument(uri: string, version: number, text: () => string, tokenizer: TokenizerSpec | undefined): void {
    if (this.disposed) return;
    this.ensureWorker();
    const tracked = tokenizer && tokenizerKey(tokenizer);
    const held = this.mirrored.get(uri);
    if (held && held.version === version && held.tracked === tracked) return;
    this.mirrored.set(uri, { version, tracked });
    this.post({ type: 'open', uri, version, text: text(), ...(tokenizer ? { tokenizer } : {}) });
  }

  /** Forwards an edit of a mirrored document; one the worker cannot apply in order is resent whole on the next sync. */
  editDocument(uri: string, version: number, changes: readonly TextChange[], length: number): void {
    const held = this.mirrored.get(uri);
    if (!held || !this.worker) return;
    if (held.version !== version - 1) {
      this.mirrored.delete(uri);
      return;
    }
    held.version = version;
    this.post({ type: 'edit', uri, version, changes, length });
  }

  closeDocument(uri: string): void {
    if (!this.mirrored.delete(uri) || !this.worker) return;
    this.post({ type: 'close', uri });
  }

  /**
   * A request about a document at `version`: the worker gets that version first (the text is sent only
   * if it lacks it). If the worker turns out not to hold it after all (it restarted, or dropped a copy
   * that went out of step), the document is sent whole and the request made once more; a request for a
   * version the editor has since moved past rejects with StaleDocumentError.
   */
  async documentRequest<M extends 'tokens' | 'hover' | 'count'>(
    document: { readonly uri: string; readonly version: number; readonly text: () => string; readonly tokenizer: TokenizerSpec | undefined },
    method: M,
    params: ParamsOf<M>,
  ): Promise<ResultOf<M>> {
    for (let attempt = 0; ; attempt++) {
      const held = this.mirrored.get(document.uri);
      // Never send an older text over a newer one: the caller asks again about the current version.
      if (held && held.version > document.version) throw new StaleDocumentError(`${document.uri} is at version ${held.version}, not ${document.version}`);
      this.syncDocument(document.uri, document.version, document.text, document.tokenizer);
      try {
        return await this.request(method, params);
      } catch (error) {
        const held = this.mirrored.get(document.uri);
        if (!(error instanceof StaleDocumentError) || attempt > 0 || (held && held.version !== document.version)) throw error;
        this.mirrored.delete(document.uri);
      }
    }
  }

  /**
   * A PromptBuilder for a model folder that builds in the worker with its tokenizer (loaded once there,
   * shared with the lens). Resolves once the tokenizer is loaded; rejects with the reason it cannot be.
   */
  async promptBuilder(folder: string, label: string, template: FimTemplate): Promise<PromptBuilder> {
    await this.request('load', { tokenizer: { folder, label } });
    return { build: (request) => this.request('buildPrompt', { folder, family: template.family, supportsRepoContext: template.supportsRepoContext, request }) };
  }

  dispose(): void {
    this.disposed = true;
    this.fail(new Error('The tokenizer worker was stopped.'));
    void this.worker?.terminate();
    this.worker = undefined;
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const started = performance.now();
    const worker = startWorker(this.options.entry, { rootDir: this.options.rootDir });
    this.startMs += performance.now() - started;
    worker.unref();
    worker.on('message', (message: WorkerToHost) => this.receive(message));
    const lost = (reason: string) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      // Its copies of the documents are gone with it; the next request starts a fresh worker.
      this.mirrored.clear();
      this.loaded.clear();
      this.fail(new Error(`The tokenizer worker ${reason}; it restarts on the next request.`));
      if (!this.disposed) this.options.log?.('error', `Tokenizer worker ${reason}.`);
    };
    worker.on('error', (error) => lost(`failed: ${error.message}`));
    worker.on('exit', (code) => lost(`exited (code ${code})`));
    this.worker = worker;
    return worker;
  }

  private post(message: HostToWorker): void {
    this.worker?.postMessage(message);
  }

  private receive(message: WorkerToHost): void {
    switch (message.type) {
      case 'result':
      case 'error': {
        const entry = this.pending.get(message.id);
        if (!entry) return;
        this.pending.delete(message.id);
        if (this.pending.size === 0) this.worker?.unref();
        if (message.type === 'result') entry.resolve(message.value);
        else entry.reject(message.code === 'stale' ? new StaleDocumentError(message.message) : new Error(message.message));
        return;
      }
      case 'loaded':
        if (message.description) {
          this.loaded.set(message.key, message.description);
          this.failed.delete(message.key);
        } else {
          this.failed.set(message.key, message.error ?? 'unknown error');
        }
        for (const listener of this.listeners) listener(message.key);
        return;
      case 'log':
        this.options.log?.(message.level, message.message);
        return;
    }
  }

  private fail(error: Error): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const entry of pending) entry.reject(error);
  }
}
