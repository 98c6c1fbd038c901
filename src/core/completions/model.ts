import { BUILTIN_MODELS } from '../models/catalog';
import type { ModelTokenizer } from '../tokenizers/types';
import type { CompletionBackend } from './backend';
import type { CompletionModel } from './types';
import { detectFimTemplate } from './fimTemplates';
import { LocalPromptBuilder } from './promptBuilder';
import type { TokenizerWorkerClient } from '../tokenizerWorker/client';
import { RuntimeCompletionBackend, type GenerationSource } from './runtimeBackend';

/** Raised when a model cannot complete at the cursor; the message is for the user. */
export class NoFimSupportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoFimSupportError';
  }
}

export interface CompletionModelParts {
  readonly id: string;
  readonly label: string;
  /** config.json `model_type`. */
  readonly modelType: string;
  /** Tokenscope's built-in model, as the model catalog resolved it. */
  readonly builtin?: boolean;
  readonly contextLength: number;
  readonly eosTokenIds: readonly number[];
  readonly tokenizer: ModelTokenizer;
  readonly backend: CompletionBackend;
}

/**
 * Assembles the engine's model: the FIM format comes from the vocabulary (and model_type for the
 * built-in model), never from the name; a model without FIM tokens is refused with the reason.
 */
export function completionModelFrom(parts: CompletionModelParts): CompletionModel {
  const { tokenizer } = parts;
  const detection = detectFimTemplate({
    modelType: parts.modelType,
    builtin: parts.builtin,
    hasToken: (token) => tokenizer.specialTokens.has(token) || tokenizer.tokenToId(token) !== undefined,
  });
  if (!detection.ok) throw new NoFimSupportError(`${parts.label}: ${detection.reason}`);
  return { id: parts.id, label: parts.label, prompts: new LocalPromptBuilder(tokenizer, detection.template), template: detection.template, contextLength: parts.contextLength, eosTokenIds: parts.eosTokenIds, backend: parts.backend };
}

/** A model loaded in this process (the CLI, tests, benchmarks: a LocalModel) as the engine's model. */
export function inProcessCompletionModel(local: GenerationSource & { readonly info: Pick<CompletionModelParts, 'id' | 'label' | 'modelType' | 'contextLength' | 'eosTokenIds'>; readonly tokenizer: ModelTokenizer }): CompletionModel {
  const { info } = local;
  return completionModelFrom({ id: info.id, label: info.label, modelType: info.modelType, builtin: isBuiltinModel(info.id), contextLength: info.contextLength, eosTokenIds: info.eosTokenIds, tokenizer: local.tokenizer, backend: new RuntimeCompletionBackend(local) });
}

/** The catalog's answer to "is this loaded model one of Tokenscope's built-in models" (ModelInfo.id). */
export function isBuiltinModel(id: string): boolean {
  return BUILTIN_MODELS.some((model) => model.id === id);
}

/** What the completion core needs to know about a loaded runtime model (ModelInfo fits). */
export interface LoadedModelInfo {
  readonly id: string;
  readonly label: string;
  readonly dir: string;
  readonly modelType: string;
  readonly contextLength: number;
  readonly eosTokenIds: readonly number[];
  /** Added/special tokens of the vocabulary (ModelInfo.specialTokens): lets the template be chosen without the tokenizer. */
  readonly specialTokens?: Readonly<Record<string, number>>;
}

/**
 * Turns "the runtime has model X loaded" into the engine's CompletionModel, loading the tokenizer
 * in this process once per model folder (prompt budgets are counted where the document is, so only
 * token ids cross to the model process). A model without FIM tokens fails here, with the reason.
 */
export interface CompletionModelCacheOptions {
  /** Build prompts in the tokenizer worker thread (the extension); without it, in this thread. */
  readonly worker?: Pick<TokenizerWorkerClient, 'promptBuilder'>;
  /**
   * Tokenizer loader for in-thread builds (the CLI, benchmarks, tests: `loadTokenizerFromFolder`).
   * Passed in rather than imported, so the extension host's bundle carries no tokenizer code.
   */
  readonly loadTokenizer?: (dir: string) => Promise<ModelTokenizer>;
}

export class CompletionModelCache {
  private current: { readonly key: string; readonly model: Promise<CompletionModel> } | undefined;

  constructor(
    private readonly source: GenerationSource,
    private readonly options: CompletionModelCacheOptions = {},
  ) {}

  forInfo(info: LoadedModelInfo): Promise<CompletionModel> {
    const key = `${info.id}\u0000${info.dir}`;
    if (this.current?.key === key) return this.current.model;
    const previous = this.current?.model;
    const model = this.create(info);
    // The previous model's prompt builder is no longer needed.
    void previous?.then((old) => old.prompts.dispose?.(), () => undefined);
    // A failed load is retried on the next request, not remembered forever.
    model.catch(() => {
      if (this.current?.model === model) this.current = undefined;
    });
    this.current = { key, model };
    return model;
  }

  dispose(): void {
    void this.current?.model.then((model) => model.prompts.dispose?.(), () => undefined);
    this.current = undefined;
  }

  private async create(info: LoadedModelInfo): Promise<CompletionModel> {
    const backend = new RuntimeCompletionBackend(this.source);
    const builtin = isBuiltinModel(info.id);
    const { worker } = this.options;
    if (worker && info.specialTokens) {
      // The runtime reports the vocabulary's added tokens: enough to choose the template here,
      // while the tokenizer itself loads in the worker (once, shared with the Token lens).
      const special = info.specialTokens;
      const detection = detectFimTemplate({ modelType: info.modelType, builtin, hasToken: (token) => Object.prototype.hasOwnProperty.call(special, token) });
      if (!detection.ok) throw new NoFimSupportError(`${info.label}: ${detection.reason}`);
      const prompts = await worker.promptBuilder(info.dir, info.label, detection.template);
      return { id: info.id, label: info.label, prompts, template: detection.template, contextLength: info.contextLength, eosTokenIds: info.eosTokenIds, backend };
    }
    if (!this.options.loadTokenizer) throw new Error(`No way to load the tokenizer of ${info.label}: give the completion model cache a tokenizer worker or a loader.`);
    const tokenizer = await this.options.loadTokenizer(info.dir);
    return completionModelFrom({ id: info.id, label: info.label, modelType: info.modelType, builtin, contextLength: info.contextLength, eosTokenIds: info.eosTokenIds, tokenizer, backend });
  }
}
