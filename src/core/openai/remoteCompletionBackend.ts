/**
 * Inline completions from an OpenAI-compatible server, behind the same CompletionBackend the local
 * runtime serves: the engine builds the fill-in-the-middle prompt (with the model's tokenizer when
 * it is known to match the server's, else with an estimate) and this backend sends it as
 *
 * - `token-ids`: `prompt` as an id array (vLLM, llama.cpp, `tokenscope serve`): document text can
 *   never become a control token, and the server's KV cache sees the same ids every time;
 * - `text`: the prompt as text with control tokens spelled out and control-token spellings inside
 *   document text made inert (fimTemplates.ts inertText), for servers that only take text;
 * - `suffix`: `prompt` + `suffix` for servers that apply the model's FIM template themselves
 *   (Ollama, the DeepSeek API), also made inert.
 *
 * Streams `logprobs` (both shapes) into the confidence, `usage` into the counts; stopping early
 * (the engine has its line) aborts the request, which makes the server stop generating.
 */
import type { CompletionBackend, GeneratedChunk, CompletionGenerateRequest, GenerateSummary } from '../completions/backend';
import type { CompletionModel } from '../completions/types';
import { detectFimTemplate, fimTemplates, type FimTemplate } from '../completions/fimTemplates';
import { LocalPromptBuilder, type PromptBuilder } from '../completions/promptBuilder';
import type { TokenizerWorkerClient } from '../tokenizerWorker/client';
import { ApproximateTokenizer } from '../tokenizers/approximate';
import { ServerError } from './client';
import type { CompletionChunk, CompletionRequestBody, WireChatLogprobs, WireLegacyLogprobs } from './protocol';
import { capabilitiesOf, type ServerCapabilities, type ServerConnection, type ServerFlavour, type ServerModel } from './server';

export type CompletionPromptMode = 'token-ids' | 'text' | 'suffix';
export type CompletionPromptPreference = 'auto' | CompletionPromptMode;

/** Sum of logprobs and how many tokens a chunk's logprobs cover, in either wire shape. */
export function chunkLogprobs(logprobs: WireLegacyLogprobs | WireChatLogprobs | null | undefined): { sum: number; tokens: number } | undefined {
  if (!logprobs) return undefined;
  const content = (logprobs as WireChatLogprobs).content;
  if (Array.isArray(content)) {
    if (content.length === 0) return undefined;
    return { sum: content.reduce((total, entry) => total + (Number.isFinite(entry.logprob) ? entry.logprob : 0), 0), tokens: content.length };
  }
  const values = (logprobs as WireLegacyLogprobs).token_logprobs;
  if (Array.isArray(values) && values.length > 0) {
    return { sum: values.reduce<number>((total, value) => total + (typeof value === 'number' && Number.isFinite(value) ? value : 0), 0), tokens: values.length };
  }
  return undefined;
}

export interface RemoteCompletionOptions {
  readonly connection: ServerConnection;
  readonly model: string;
  readonly mode: CompletionPromptMode;
  readonly capabilities: ServerCapabilities;
}

export class RemoteCompletionBackend implements CompletionBackend {
  private summary: GenerateSummary | undefined;

  constructor(private readonly options: RemoteCompletionOptions) {}

  get mode(): CompletionPromptMode {
    return this.options.mode;
  }

  async *generate(request: CompletionGenerateRequest, signal: AbortSignal): AsyncGenerator<GeneratedChunk> {
    this.summary = undefined;
    const { connection, model, mode, capabilities } = this.options;
    const startedAt = performance.now();
    const stop = (request.stopStrings ?? []).slice(0, capabilities.maxStop);
    const prompt = mode === 'token-ids' ? request.promptIds : mode === 'suffix' ? (request.fim?.prefix ?? '') : (request.promptText ?? '');
    if (mode !== 'token-ids' && request.promptText === undefined && request.fim === undefined) throw new Error('This prompt has no text form; the server needs one.');
    const body: CompletionRequestBody = {
      model,
      prompt,
      ...(mode === 'suffix' ? { suffix: request.fim?.suffix ?? '' } : {}),
      max_tokens: request.maxTokens,
      // Greedy, as the local runtime: the most likely completion.
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
      // Only the chosen tokens' logprobs are used (the confidence): no alternatives where the server can leave them out.
      logprobs: capabilities.chosenLogprobsAtZero ? 0 : 1,
      ...(stop.length > 0 ? { stop } : {}),
      ...(capabilities.stopTokenIds && mode === 'token-ids' && request.stopTokenIds.length > 0 ? { stop_token_ids: request.stopTokenIds } : {}),
    };
    let generated = 0;
    let scored = 0;
    let first: number | undefined;
    for await (const chunk of connection.client.stream<CompletionChunk>('/completions', body, signal)) {
      const timings = chunk.timings;
      if (timings) {
        this.summary = {
          ...(this.summary as GenerateSummary | undefined),
          ...(typeof timings.cache_n === 'number' ? { reusedPromptTokens: timings.cache_n } : {}),
          ...(typeof timings.prompt_n === 'number' ? { prefilledTokens: timings.prompt_n } : {}),
          ...(typeof timings.prompt_ms === 'number' ? { promptMs: timings.prompt_ms } : {}),
          ...(typeof timings.predicted_n === 'number' && typeof timings.predicted_ms === 'number' && timings.predicted_n > 1 && timings.predicted_ms > 0 ? { tokensPerSecond: ((timings.predicted_n - 1) * 1000) / timings.predicted_ms } : {}),
        };
      }
      const usage = chunk.usage;
      if (usage) this.summary = { ...(this.summary as GenerateSummary | undefined), promptTokens: usage.prompt_tokens, generatedTokens: usage.completion_tokens };
      const choice = chunk.choices?.[0];
      if (!choice) continue;
      const text = typeof choice.text === 'string' ? choice.text : '';
      const scoredChunk = chunkLogprobs(choice.logprobs);
      if (text.length === 0 && !scoredChunk) continue;
      first ??= performance.now() - startedAt;
      const tokens = scoredChunk?.tokens ?? 1;
      generated += tokens;
      if (scoredChunk) scored += scoredChunk.tokens;
      this.summary = {
        ...(this.summary as GenerateSummary | undefined),
        firstTokenMs: first,
        noLogprobs: scored === 0 ? `${connection.name} sent no token probabilities (logprobs) for ${model}, so no confidence is shown and minConfidence does not apply.` : undefined,
      };
      yield { text, tokens, ...(scoredChunk ? { logprob: scoredChunk.sum } : {}) };
    }
    const elapsed = performance.now() - startedAt;
    if (first !== undefined && generated > 1 && this.summary?.tokensPerSecond === undefined) this.summary = { ...(this.summary as GenerateSummary | undefined), tokensPerSecond: ((generated - 1) * 1000) / Math.max(1, elapsed - first) };
  }

  lastSummary(): GenerateSummary | undefined {
    return this.summary;
  }
}

/** Which way to send completion prompts to this server, and why not the others. */
export function choosePromptMode(preference: CompletionPromptPreference, capabilities: ServerCapabilities, tokenizerKnown: boolean, templateKnown: boolean, where: string): CompletionPromptMode {
  const can: Record<CompletionPromptMode, boolean> = {
    'token-ids': capabilities.tokenIdPrompts && tokenizerKnown,
    text: templateKnown,
    suffix: capabilities.suffix,
  };
  if (preference !== 'auto') {
    if (can[preference]) return preference;
    const why: Record<CompletionPromptMode, string> = {
      'token-ids': capabilities.tokenIdPrompts ? "Tokenscope does not have this model's tokenizer" : 'this server does not take token-id prompts',
      text: "Tokenscope does not know this model's fill-in-the-middle format",
      suffix: 'this server does not take `suffix`',
    };
    throw new ServerError('bad-request', `tokenscope.server.completionPrompt is "${preference}", but ${why[preference]} (${where}). Set it to "auto".`);
  }
  if (can['token-ids']) return 'token-ids';
  // A server that takes `suffix` applies the model's own template (Ollama would wrap a text FIM
  // prompt in the chat template of an instruct model); a plain text prompt is the last resort.
  if (can.suffix) return 'suffix';
  if (can.text) return 'text';
  throw new ServerError(
    'bad-request',
    `${where}: Tokenscope does not know this model's fill-in-the-middle format (its tokenizer is unknown and its name names no family Tokenscope knows) and the server does not build one itself (no \`suffix\`). Use a code model such as Qwen2.5-Coder, DeepSeek-Coder, StarCoder2 or CodeLlama, or a server that takes \`suffix\` (Ollama).`,
  );
}

/** A FIM family from a model's name, for servers whose tokenizer Tokenscope does not have. */
export function fimTemplateFromName(model: string): FimTemplate | undefined {
  const name = model.toLowerCase();
  if (/qwen[-_ ]?(2\.5|3)[-_ ]?coder/.test(name)) return fimTemplates['qwen2.5-coder'];
  if (/deepseek[-_ ]?coder/.test(name) && !/v2/.test(name)) return fimTemplates['deepseek-coder'];
  if (/starcoder[-_ ]?2/.test(name)) return fimTemplates.starcoder2;
  if (/code[-_ ]?llama/.test(name)) return fimTemplates.codellama;
  return undefined;
}

export interface RemoteCompletionModelOptions {
  readonly connection: ServerConnection;
  /** The model name on the server (empty: the server's first). */
  readonly model: string;
  readonly preference?: CompletionPromptPreference;
  /** Build prompts in the tokenizer worker thread (the extension), when the tokenizer has a folder. */
  readonly worker?: Pick<TokenizerWorkerClient, 'promptBuilder'>;
  readonly signal?: AbortSignal;
  /** Told once which way prompts go and why (logs). */
  readonly onChoice?: (description: string) => void;
}

/** The completion engine's model for a server's model: prompts, template, context, backend. */
export async function remoteCompletionModel(options: RemoteCompletionModelOptions): Promise<CompletionModel & { readonly mode: CompletionPromptMode; readonly flavour: ServerFlavour; readonly serverModel: ServerModel }> {
  const { connection } = options;
  const serverModel = await connection.model(options.model, options.signal);
  const flavour = await connection.flavour(options.signal);
  const capabilities = capabilitiesOf(flavour);
  const resolved = await connection.tokenizerFor(serverModel, options.signal);
  const where = `${serverModel.id} on ${connection.name}`;
  let template: FimTemplate | undefined;
  if (resolved) {
    const tokenizer = resolved.tokenizer;
    const detection = detectFimTemplate({
      modelType: serverModel.tokenscope?.modelType,
      builtin: serverModel.tokenscope?.builtin,
      hasToken: (token) => tokenizer.specialTokens.has(token) || tokenizer.tokenToId(token) !== undefined,
    });
    if (detection.ok) template = detection.template;
  }
  template ??= fimTemplateFromName(serverModel.id);
  const mode = choosePromptMode(options.preference ?? 'auto', capabilities, resolved !== undefined && template !== undefined, template !== undefined, where);
  const chosen = mode === 'suffix' ? fimTemplates['server-fim'] : template!;
  let prompts: PromptBuilder;
  if (resolved && mode !== 'suffix') {
    prompts = options.worker && resolved.dir ? await options.worker.promptBuilder(resolved.dir, serverModel.id, chosen) : new LocalPromptBuilder(resolved.tokenizer, chosen);
  } else {
    prompts = new LocalPromptBuilder(new ApproximateTokenizer(`server:${serverModel.id}`, serverModel.id, chosen.controlTokens.concat(chosen.stopTokens)), chosen);
  }
  const why = mode === 'token-ids' ? `token ids (${resolved?.source})` : mode === 'text' ? `text with control-token spellings made inert (${resolved ? resolved.source : 'format from the model name; token counts are estimates'})` : 'prompt + suffix (the server applies the FIM format)';
  options.onChoice?.(`Completions from ${where} (${flavour}): ${chosen.label}, prompts as ${why}.`);
  const backend = new RemoteCompletionBackend({ connection, model: serverModel.id, mode, capabilities });
  return {
    id: `server:${connection.baseUrl}|${serverModel.id}`,
    label: serverModel.id,
    prompts,
    template: chosen,
    // Unknown context: assume a modest window (the prompt budget is 1024 tokens anyway).
    contextLength: serverModel.contextLength ?? 4096,
    eosTokenIds: serverModel.tokenscope?.eosTokenIds ?? [],
    backend,
    mode,
    flavour,
    serverModel,
  };
}
