import { Worker } from 'node:worker_threads';
import type { FimTemplate } from './fimTemplates';
import type { PromptBuilder, PromptIds, PromptRequest } from './promptBuilder';
import type { PromptWorkerReply, PromptWorkerRequest } from './promptWorkerProtocol';

export interface PromptWorkerOptions {
  /**
   * The worker entry: `<extension>/dist/promptWorker.js`; a `.ts` entry (tests, benchmark, CLI from
   * source) is loaded through tsx's CommonJS hooks, which must then be installed.
   */
  readonly entry: string;
}

function startWorker(entry: string): Worker {
  if (!entry.endsWith('.ts')) return new Worker(entry);
  // ESM loader hooks from `--import tsx` do not reach worker threads; tsx's CommonJS register does.
  return new Worker(`require('tsx/cjs'); require(${JSON.stringify(entry)});`, { eval: true });
}

/**
 * A PromptBuilder that runs in a worker thread: the tokenizer is loaded and used there, only the
 * text window goes in and token ids come out. One worker per loaded model; dispose() ends it.
 */
export class WorkerPromptBuilder implements PromptBuilder {
  private readonly pending = new Map<number, { resolve: (prompt: PromptIds) => void; reject: (error: Error) => void }>();
  private nextId = 1;
  private failure: Error | undefined;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (message: PromptWorkerReply) => {
      if (message.type === 'built') {
        this.pending.get(message.id)?.resolve(message.prompt);
        this.pending.delete(message.id);
      } else if (message.type === 'error' && message.id !== undefined) {
        this.pending.get(message.id)?.reject(new Error(message.message));
        this.pending.delete(message.id);
      }
    });
    const fail = (error: Error) => {
      this.failure = error;
      for (const entry of this.pending.values()) entry.reject(error);
      this.pending.clear();
    };
    worker.on('error', (error) => fail(new Error(`The prompt worker failed: ${error.message}`)));
    worker.on('exit', (code) => fail(new Error(`The prompt worker exited (code ${code}).`)));
  }

  /** Starts a worker, loads the model folder's tokenizer in it, and resolves once it is ready. */
  static start(dir: string, template: FimTemplate, options: PromptWorkerOptions): Promise<WorkerPromptBuilder> {
    const worker = startWorker(options.entry);
    const builder = new WorkerPromptBuilder(worker);
    return new Promise<WorkerPromptBuilder>((resolve, reject) => {
      const onMessage = (message: PromptWorkerReply) => {
        if (message.type === 'loaded') {
          worker.off('message', onMessage);
          // Idle, a worker must never keep the host (or a CLI, a test) alive on its own.
          worker.unref();
          resolve(builder);
        } else if (message.type === 'error' && message.id === undefined) {
          worker.off('message', onMessage);
          void worker.terminate();
          reject(new Error(message.message));
        }
      };
      worker.on('message', onMessage);
      worker.once('error', (error) => reject(new Error(`The prompt worker failed to start: ${error.message}`)));
      const load: PromptWorkerRequest = { type: 'load', dir, family: template.family, supportsRepoContext: template.supportsRepoContext };
      worker.postMessage(load);
    });
  }

  build(request: PromptRequest): Promise<PromptIds> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<PromptIds>((resolve, reject) => {
      // Referenced only while a build is pending: waiting for it keeps the process alive, an idle worker does not.
      if (this.pending.size === 0) this.worker.ref();
      const settle = () => {
        if (this.pending.size === 0) this.worker.unref();
      };
      this.pending.set(id, {
        resolve: (prompt) => {
          resolve(prompt);
          queueMicrotask(settle);
        },
        reject: (error) => {
          reject(error);
          queueMicrotask(settle);
        },
      });
      const message: PromptWorkerRequest = { type: 'build', id, request };
      this.worker.postMessage(message);
    });
  }

  dispose(): void {
    void this.worker.terminate();
  }
}
