/**
 * The model `tokenscope serve` serves, run as the editor runs it: in its own model process behind
 * the typed RPC (ModelProcessClient, src/model-process). ONNX Runtime blocks its thread for every
 * forward pass; here that thread is not the server's, so new requests, client disconnects (which
 * cancel at once) and SSE writes are handled while the model computes, and a native crash takes
 * down the model process (restarted, the model reloaded), not the server.
 *
 * A tokenizer copy stays in the server process for what it must do synchronously: check and count
 * prompts (chat template included) before they queue, and spell tokens for logprobs. Prompts go to
 * the process as token ids, so each is tokenized once.
 */
import type { ConcreteVariant } from '../core/models/modelFolder';
import { readModelFolder, type ModelFolder } from '../core/models/modelFolder';
import { resolveModelReference } from '../core/models/catalog';
import { ModelProcessClient } from '../core/modelProcess/client';
import { encodePromptInput } from '../core/runtime/promptEncoding';
import type { GenerateRequest, GenerationEvent, LoadModelRequest, ModelInfo, PromptInput, RuntimeLogger } from '../core/runtime/types';
import { silentLogger } from '../core/runtime/types';
import { loadTokenizerFromFolder } from '../core/tokenizers/huggingface';
import type { ModelTokenizer } from '../core/tokenizers/types';
import type { ServedModel } from './openaiServer';

export interface ProcessModelOptions {
  readonly load: LoadModelRequest;
  /** Where `models/` lives (built-in `mini`). */
  readonly packageRoot: string;
  /** Base for a relative model folder (the model process runs in the same directory). */
  readonly cwd: string;
  /** The model process entry: dist/modelProcess.js, or src/model-process/main.ts from source. */
  readonly entry: string;
  /** Node flags for the model process (from source: the loader this process runs with). */
  readonly execArgv?: readonly string[];
  readonly logger?: RuntimeLogger;
}

export class ProcessServedModel implements ServedModel {
  private constructor(
    private readonly client: ModelProcessClient,
    readonly info: ModelInfo,
    readonly tokenizer: ModelTokenizer,
    readonly folder: Pick<ModelFolder, 'chatTemplate' | 'tokenizerConfig'>,
  ) {}

  /** Forks the model process and loads the model there; the tokenizer copy loads meanwhile. */
  static async start(options: ProcessModelOptions): Promise<ProcessServedModel> {
    const logger = options.logger ?? silentLogger;
    // Resolved here too (the same rules the process applies): a wrong name fails before anything is forked.
    const resolved = resolveModelReference(options.load.model, { packageRoot: options.packageRoot, cwd: options.cwd });
    const client = new ModelProcessClient({ entry: options.entry, execArgv: options.execArgv, packageRoot: options.packageRoot, logger });
    client.onDidCrash((crash) => {
      logger.error(
        crash.restartInMs === undefined
          ? `the model process stopped (${crash.reason}) and is not restarted again: requests get 503 until tokenscope serve is restarted`
          : `the model process stopped (${crash.reason}); ${crash.failedRequests} request(s) failed; restarting it in ${crash.restartInMs} ms`,
      );
    });
    try {
      const tokenizer = loadTokenizerFromFolder(resolved.dir, { id: resolved.id, label: resolved.label });
      tokenizer.catch(() => undefined);
      const info = await client.load(options.load);
      const folder = await readModelFolder(info.dir, info.variant as ConcreteVariant);
      // The process resolved the reference itself: should it have found another folder, its tokenizer is the one.
      const matching = info.dir === resolved.dir ? await tokenizer : await loadTokenizerFromFolder(info.dir, { id: info.id, label: info.label });
      return new ProcessServedModel(client, info, matching, folder);
    } catch (error) {
      await client.dispose();
      throw error;
    }
  }

  encodePrompt(prompt: PromptInput): number[] {
    return encodePromptInput(this, prompt);
  }

  generate(request: GenerateRequest, signal?: AbortSignal, options?: { readonly coalesceMs?: number }): AsyncIterable<GenerationEvent> {
    return this.client.generate(request, signal, options);
  }

  /** For /health: the model process's state (`ready`, `restarting`, `failed`...); with `detail`, its pid. */
  health(detail: boolean): Readonly<Record<string, unknown>> {
    return { modelProcess: this.client.state.status, ...(detail ? { modelProcessPid: this.client.pid ?? null } : {}) };
  }

  /** Process id of the model process (diagnostics, the benchmark's CPU accounting). */
  get pid(): number | undefined {
    return this.client.pid;
  }

  dispose(): Promise<void> {
    return this.client.dispose();
  }
}
