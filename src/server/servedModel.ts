/**
 * What `tokenscope serve` serves: the `ServedModel` it needs of the runtime, and how that model is
 * described on the wire: its id in requests (`tokenscope-mini`, else the folder's name), the
 * `/v1/models` entry with Tokenscope's extra fields (context length, EOS ids, chat and thinking
 * support, where its tokenizer is and its hash), the tokenizer body clients fetch to build token-id
 * prompts, and its fill-in-the-middle template (what `suffix` needs).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { detectFimTemplate } from '../core/completions/fimTemplates';
import { isBuiltinModel } from '../core/completions/model';
import type { TokenscopeModelMeta, WireModel } from '../core/openai/protocol';
import type { GenerateRequest, GenerationEvent, ModelInfo, PromptInput } from '../core/runtime/types';
import type { ModelTokenizer } from '../core/tokenizers/types';

/**
 * What the server needs of the runtime: the model in its model process with a tokenizer copy here
 * (processModel.ts, what `tokenscope serve` runs), or a LocalModel in this process (tests).
 */
export interface ServedModel {
  readonly info: ModelInfo;
  readonly tokenizer: ModelTokenizer;
  /** Synchronous: prompts are checked and counted before they wait for a turn. */
  encodePrompt(prompt: PromptInput): number[];
  /** `coalesceMs`: tokens made this close together may arrive together (the model process's `events`; a model in this process ignores it). */
  generate(request: GenerateRequest, signal?: AbortSignal, options?: { readonly coalesceMs?: number }): AsyncIterable<GenerationEvent>;
  /** Extra fields for /health (the model process's state; with `detail`, for this machine's eyes only, its pid). */
  health?(detail: boolean): Readonly<Record<string, unknown>>;
}

export const TOKENIZER_PATH = '/tokenscope/tokenizer';

export interface ServedModelDescription {
  /** The name requests use (also accepted: the model's own id). */
  readonly modelId: string;
  readonly meta: TokenscopeModelMeta;
  readonly wireModel: WireModel;
  /** GET /v1/tokenscope/tokenizer's body: `{tokenizer, config}`. */
  readonly tokenizerBody: string;
  readonly fim: ReturnType<typeof detectFimTemplate>;
}

export async function describeServedModel(model: ServedModel): Promise<ServedModelDescription> {
  const info = model.info;
  // The tokenizer clients need for token-id prompts, as served (hashed once).
  const readJsonFile = async (name: string) => JSON.parse(await readFile(join(info.dir, name), 'utf8')) as unknown;
  const tokenizerJson = await readJsonFile('tokenizer.json');
  const tokenizerConfig = await readJsonFile('tokenizer_config.json').catch(() => ({}));
  const tokenizerBody = JSON.stringify({ tokenizer: tokenizerJson, config: tokenizerConfig });
  const tokenizerSha256 = createHash('sha256').update(JSON.stringify(tokenizerJson)).digest('hex');
  const specialTokens = model.tokenizer.specialTokens;
  const fim = detectFimTemplate({ modelType: info.modelType, builtin: isBuiltinModel(info.id), hasToken: (token) => specialTokens.has(token) || model.tokenizer.tokenToId(token) !== undefined });
  const created = Math.floor(Date.now() / 1000);
  const modelId = info.id === 'mini' ? 'tokenscope-mini' : info.label.split(/[\\/]/).filter(Boolean).pop() ?? info.id;
  const meta: TokenscopeModelMeta = {
    modelType: info.modelType,
    builtin: isBuiltinModel(info.id),
    contextLength: info.contextLength,
    eosTokenIds: info.eosTokenIds,
    // The built-in model has a template but cannot follow instructions (the extension says the same).
    hasChatTemplate: info.hasChatTemplate && !isBuiltinModel(info.id),
    supportsThinking: info.templateSupportsThinking,
    tokenizerPath: TOKENIZER_PATH,
    tokenizerSha256,
  };
  const wireModel: WireModel = { id: modelId, object: 'model', created, owned_by: 'tokenscope', max_model_len: info.contextLength, tokenscope: meta };
  return { modelId, meta, wireModel, tokenizerBody, fim };
}
