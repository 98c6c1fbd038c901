/**
 * What Tokenscope knows about one OpenAI-compatible server and one of its models: which engine it
 * is (from `/models` and the URL), what it accepts (token-id prompts, `suffix`, logprobs, template
 * switches), the model's context window, and the model's tokenizer when it is known to match what
 * the server runs (the tokenizer `tokenscope serve` hands out, or one Tokenscope ships for a model
 * named after its family). The backends (remoteCompletionBackend.ts, remoteChatBackend.ts) decide
 * from this how to build each request.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadHuggingFaceTokenizer } from '../tokenizers/huggingface';
import type { TokenizerRegistry } from '../tokenizers/registry';
import type { ModelTokenizer } from '../tokenizers/types';
import { ServerClient, ServerError, type ServerClientOptions } from './client';
import { contextLengthOf, type TokenscopeModelMeta, type WireModel, type WireModelList, type WireTokenizerFiles } from './protocol';

export type ServerFlavour = 'tokenscope' | 'vllm' | 'llama.cpp' | 'ollama' | 'lm-studio' | 'deepseek' | 'openai' | 'unknown';

export interface ServerModel {
  readonly id: string;
  readonly ownedBy?: string;
  /** Prompt plus answer, when the server says (vLLM max_model_len, llama.cpp n_ctx, `tokenscope serve`). */
  readonly contextLength?: number;
  readonly tokenscope?: TokenscopeModelMeta;
}

/** What a server accepts, by engine (from their sources; see protocol.ts). */
export interface ServerCapabilities {
  /** `prompt` as an array of token ids on /completions (vLLM, llama.cpp, `tokenscope serve`, OpenAI's legacy API). */
  readonly tokenIdPrompts: boolean;
  /** `suffix` on /completions: the server builds the fill-in-the-middle prompt (Ollama, the DeepSeek API). */
  readonly suffix: boolean;
  /** `chat_template_kwargs` (Qwen3's enable_thinking) on /chat/completions (vLLM, llama.cpp, `tokenscope serve`). */
  readonly chatTemplateKwargs: boolean;
  /** `reasoning_effort: "none"` switches thinking off (Ollama). */
  readonly reasoningEffort: boolean;
  /** Asking for logprobs on chat is accepted (DeepSeek's reasoner rejects it with a 400). */
  readonly chatLogprobs: boolean;
  /** Most `stop` strings accepted (OpenAI: 4). */
  readonly maxStop: number;
  /** Accepts vLLM's `stop_token_ids`. */
  readonly stopTokenIds: boolean;
  /**
   * Legacy `logprobs: 0` returns the chosen tokens' logprobs without alternatives (`tokenscope serve`,
   * as OpenAI documents it); llama.cpp then returns none and older vLLM did too (vllm#3707): 1 there.
   */
  readonly chosenLogprobsAtZero: boolean;
}

/** Which engine answers, from `owned_by` and the URL (Ollama names namespaces, `library` by default). */
export function detectFlavour(baseUrl: string, models: readonly ServerModel[]): ServerFlavour {
  const owners = new Set(models.map((model) => model.ownedBy ?? ''));
  const host = new URL(baseUrl).host.toLowerCase();
  if (models.some((model) => model.tokenscope) || owners.has('tokenscope')) return 'tokenscope';
  if (owners.has('vllm')) return 'vllm';
  if (owners.has('llamacpp')) return 'llama.cpp';
  if (host.endsWith('api.deepseek.com') || owners.has('deepseek')) return 'deepseek';
  if (host.endsWith('api.openai.com')) return 'openai';
  if (host.endsWith(':11434') || owners.has('library') || owners.has('ollama')) return 'ollama';
  if (host.endsWith(':1234') || owners.has('organization_owner')) return 'lm-studio';
  return 'unknown';
}

export function capabilitiesOf(flavour: ServerFlavour): ServerCapabilities {
  const base: ServerCapabilities = { tokenIdPrompts: false, suffix: false, chatTemplateKwargs: false, reasoningEffort: false, chatLogprobs: true, maxStop: 16, stopTokenIds: false, chosenLogprobsAtZero: false };
  switch (flavour) {
    case 'tokenscope':
      return { ...base, tokenIdPrompts: true, chatTemplateKwargs: true, stopTokenIds: true, chosenLogprobsAtZero: true };
    case 'vllm':
      return { ...base, tokenIdPrompts: true, chatTemplateKwargs: true, stopTokenIds: true };
    case 'llama.cpp':
      return { ...base, tokenIdPrompts: true, chatTemplateKwargs: true };
    case 'ollama':
      return { ...base, suffix: true, reasoningEffort: true };
    case 'deepseek':
      return { ...base, suffix: true, chatLogprobs: false, maxStop: 16 };
    case 'openai':
      return { ...base, tokenIdPrompts: true, suffix: true, maxStop: 4 };
    case 'lm-studio':
    case 'unknown':
      return { ...base, maxStop: 4 };
  }
}

export function parseModelList(body: WireModelList, name: string): ServerModel[] {
  if (!body || !Array.isArray(body.data)) {
    throw new ServerError('protocol', `${name} answered /models without a "data" list: is it an OpenAI-compatible API? The base URL usually ends in /v1.`);
  }
  return body.data
    .filter((model): model is WireModel => typeof model === 'object' && model !== null && typeof model.id === 'string' && model.id.length > 0)
    .map((model) => ({ id: model.id, ownedBy: typeof model.owned_by === 'string' ? model.owned_by : undefined, contextLength: contextLengthOf(model), tokenscope: model.tokenscope }));
}

/**
 * Shipped tokenizers whose vocabulary matches a model by its family name, for token-id prompts
 * and local counts. Only families whose ids are the same across their sizes and versions.
 */
export function builtinTokenizerForModelName(model: string): 'qwen2.5' | 'llama3' | 'deepseek-v3' | undefined {
  const name = model.toLowerCase();
  // Qwen2.5, Qwen2.5-Coder, Qwen3(-Coder), QwQ share the 151k vocabulary and its FIM tokens.
  if (/qwen[-_ ]?(2\.5|3)|qwq/.test(name) && !/distill/.test(name)) return 'qwen2.5';
  if (/llama[-_ ]?3/.test(name) && !/code/.test(name)) return 'llama3';
  if (/deepseek[-_ ]?(v3|r1|chat|reasoner)/.test(name) && !/distill/.test(name)) return 'deepseek-v3';
  return undefined;
}

export interface ResolvedTokenizer {
  readonly tokenizer: ModelTokenizer;
  /** A folder with tokenizer.json (and tokenizer_config.json), for the prompt worker. */
  readonly dir: string;
  /** Where it came from, for logs. */
  readonly source: string;
  /** The chat template of tokenizer_config.json, when there is one. */
  readonly chatTemplate?: string;
}

export interface ServerConnectionOptions extends ServerClientOptions {
  /** Where tokenizers handed out by `tokenscope serve` are kept (by content hash). */
  readonly cacheDir?: string;
  /** Shipped tokenizers (for models named after their family). */
  readonly tokenizers?: TokenizerRegistry;
}

/** One server: its client, its model list (fetched once, refreshable) and what it is. */
export class ServerConnection {
  readonly client: ServerClient;
  private models: Promise<ServerModel[]> | undefined;
  private readonly tokenizers = new Map<string, Promise<ResolvedTokenizer | undefined>>();

  constructor(private readonly options: ServerConnectionOptions) {
    this.client = new ServerClient(options);
  }

  get name(): string {
    return this.client.name;
  }

  get baseUrl(): string {
    return this.client.baseUrl;
  }

  /** GET /models (cached; `refresh` asks again). A failure is not cached. */
  listModels(signal?: AbortSignal, refresh = false): Promise<ServerModel[]> {
    if (!this.models || refresh) {
      const pending = this.client.getJson<WireModelList>('/models', signal).then((body) => parseModelList(body, this.name));
      pending.catch(() => {
        if (this.models === pending) this.models = undefined;
      });
      this.models = pending;
    }
    return this.models;
  }

  async flavour(signal?: AbortSignal): Promise<ServerFlavour> {
    return detectFlavour(this.baseUrl, await this.listModels(signal));
  }

  /** The model by name; an empty name picks the server's first (llama.cpp and vLLM serve one). */
  async model(name: string, signal?: AbortSignal): Promise<ServerModel> {
    const models = await this.listModels(signal);
    if (models.length === 0) throw new ServerError('not-found', `${this.name} lists no models at /models. Load a model on the server first (e.g. \`ollama pull qwen2.5-coder:1.5b\`).`);
    if (!name) return models[0];
    const found = models.find((model) => model.id === name);
    if (!found) {
      throw new ServerError('not-found', `${this.name} has no model "${name}"; it serves ${models.slice(0, 8).map((model) => `"${model.id}"`).join(', ')}${models.length > 8 ? ', …' : ''}. Run "Tokenscope: Connect to a Server…" to pick one.`);
    }
    return found;
  }

  /**
   * The model's tokenizer when it is known to match the server's: the one `tokenscope serve` hands
   * out, else a shipped one for a model named after its family; undefined when neither.
   */
  tokenizerFor(model: ServerModel, signal?: AbortSignal): Promise<ResolvedTokenizer | undefined> {
    const key = model.tokenscope ? `served:${model.tokenscope.tokenizerSha256}` : `name:${model.id}`;
    let pending = this.tokenizers.get(key);
    if (!pending) {
      pending = model.tokenscope ? this.servedTokenizer(model.id, model.tokenscope, signal) : this.builtinTokenizer(model.id);
      pending.catch(() => {
        if (this.tokenizers.get(key) === pending) this.tokenizers.delete(key);
      });
      this.tokenizers.set(key, pending);
    }
    return pending;
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  private async builtinTokenizer(model: string): Promise<ResolvedTokenizer | undefined> {
    const id = builtinTokenizerForModelName(model);
    const registry = this.options.tokenizers;
    if (!id || !registry) return undefined;
    const dir = registry.huggingFaceFolder(id);
    const tokenizer = (await registry.get(id)) as ModelTokenizer;
    return { tokenizer, dir, source: `Tokenscope's ${id} tokenizer (the model's name says ${id})`, chatTemplate: await chatTemplateIn(dir) };
  }

  private async servedTokenizer(model: string, meta: TokenscopeModelMeta, signal?: AbortSignal): Promise<ResolvedTokenizer> {
    const cacheRoot = this.options.cacheDir;
    const sha = meta.tokenizerSha256.replace(/[^0-9a-f]/gi, '').slice(0, 64);
    const cached = cacheRoot && sha ? join(cacheRoot, sha) : undefined;
    let files: WireTokenizerFiles;
    if (cached && existsSync(join(cached, 'tokenizer.json'))) {
      files = { tokenizer: JSON.parse(await readFile(join(cached, 'tokenizer.json'), 'utf8')), config: JSON.parse(await readFile(join(cached, 'tokenizer_config.json'), 'utf8')) };
    } else {
      files = await this.client.getJson<WireTokenizerFiles>(meta.tokenizerPath.startsWith('/') ? meta.tokenizerPath : `/${meta.tokenizerPath}`, signal);
      if (typeof files?.tokenizer !== 'object' || files.tokenizer === null) throw new ServerError('protocol', `${this.name} handed out no tokenizer for ${model} at ${meta.tokenizerPath}.`);
      const text = JSON.stringify(files.tokenizer);
      const actual = createHash('sha256').update(text).digest('hex');
      if (sha && actual !== sha) throw new ServerError('protocol', `${this.name}'s tokenizer for ${model} does not match its announced hash (${actual.slice(0, 12)} vs ${sha.slice(0, 12)}); restart the server and try again.`);
      if (cached) {
        await mkdir(cached, { recursive: true });
        await writeFile(join(cached, 'tokenizer.json'), text);
        await writeFile(join(cached, 'tokenizer_config.json'), JSON.stringify(files.config ?? {}));
      }
    }
    const tokenizer = loadHuggingFaceTokenizer(files.tokenizer, files.config ?? {}, { id: `server:${model}`, label: model, source: `${this.baseUrl}${meta.tokenizerPath}` });
    const template = (files.config as { chat_template?: unknown } | undefined)?.chat_template;
    return { tokenizer, dir: cached ?? '', source: `the tokenizer ${this.name} serves`, chatTemplate: typeof template === 'string' ? template : undefined };
  }
}

async function chatTemplateIn(dir: string): Promise<string | undefined> {
  try {
    const config = JSON.parse(await readFile(join(dir, 'tokenizer_config.json'), 'utf8')) as { chat_template?: unknown };
    return typeof config.chat_template === 'string' ? config.chat_template : undefined;
  } catch {
    return undefined;
  }
}
