/**
 * One loaded local model: tokenizer, ONNX session and KV cache, generating token streams. This is
 * the engine behind both the model process (extension) and the CLI (in-process).
 *
 * Speed, in order of what matters on a CPU:
 * - Prefix reuse: a request that shares a prefix with the cached sequence prefills only the new
 *   suffix (the cache is sliced where the prompts diverge).
 * - Logits for the last position only: `num_logits_to_keep` when the graph declares it, else the
 *   graph is patched at load to slice the last position before its LM head (onnxPatch.ts; ONNX
 *   Runtime runs the LM head for every position even when logits are not fetched). Should the
 *   patch not apply, the prompt runs without its last token, and the last token alone with logits.
 * - Present tensors are fed back as the next step's past as they are (no copies); the attention
 *   mask is a view of one preallocated buffer.
 * - Log-probabilities and top-k alternatives by partial selection, never sorting the vocabulary.
 */
// First: ONNX Runtime must see its telemetry switch before it loads.
import './ortTelemetry';
import type { InferenceSession, Tensor as TensorType } from 'onnxruntime-node';
import { Tensor } from 'onnxruntime-node';
import { resolveModelReference } from '../models/catalog';
import { ModelError, cannotReadError, errorMessage, isOutOfMemory } from '../models/errors';
import { readModelFolder, tokenString, type ModelFolder } from '../models/modelFolder';
import { templateSupportsThinking } from '../prompt/chatTemplate';
import { loadTokenizerFromFolder, type HuggingFaceTokenizer } from '../tokenizers/huggingface';
import type { ModelTokenizer } from '../tokenizers/types';
import { IncrementalDetokenizer } from './detokenizer';
import { halfToFloatArray } from './float16';
import { readGraphSignature, type GraphSignature } from './graphSignature';
import { KvCache, commonPrefixLength } from './kvCache';
import { createSession } from './onnxSession';
import { encodePromptInput } from './promptEncoding';
import { SeededRandom, argmaxLogSumExp, logSumExp, pickToken, topKIndices, type ResolvedSampling } from './sampling';
import { StopMatcher } from './stopMatcher';
import { resolveThreads } from './threads';
import { readEmbeddingRows, vocabularyMismatch } from './vocabularyCheck';
import {
  GenerationAbortedError,
  silentLogger,
  type FinishReason,
  type GenerateRequest,
  type GenerationEvent,
  type LoadModelRequest,
  type ModelInfo,
  type PromptInput,
  type RuntimeLogger,
  type TokenAlternative,
  type TokenEvent,
} from './types';

export interface LocalModelOptions {
  /** Where built-in models live (`<packageRoot>/models/...`). */
  readonly packageRoot: string;
  /** Base for relative model paths (CLI). */
  readonly cwd?: string;
  readonly logger?: RuntimeLogger;
  /** Prompt tokens per forward pass while prefilling (bounds memory and cancellation latency). */
  readonly prefillChunk?: number;
  /** Timings of every forward pass (the decode profile benchmark; nothing is measured without it). */
  readonly onForwardPass?: (pass: ForwardPassTimings) => void;
  /** Write ONNX Runtime's own per-node profile to `<prefix>_<date>.json` when the model is disposed. */
  readonly ortProfilePrefix?: string;
}

/** Where one forward pass spent its time, in ms. */
export interface ForwardPassTimings {
  readonly tokens: number;
  readonly pastLength: number;
  /** Building the feeds (ids, mask, positions, the cached past tensors). */
  readonly feedsMs: number;
  /** session.run: ONNX Runtime's work plus the binding's copies of inputs and outputs. */
  readonly runMs: number;
  /** Taking the presents as the next past. */
  readonly cacheMs: number;
  /** Taking out the last position's logits (fp16 conversion included). */
  readonly logitsMs: number;
}

export const DEFAULT_MAX_TOKENS = 256;
export const MAX_TOP_LOGPROBS = 20;
const DEFAULT_PREFILL_CHUNK = 256;
/**
 * For graphs computing logits at every position (neither num_logits_to_keep nor the last-position
 * patch), prompts at least this long run as (n-1 tokens) + (last token with logits): fetching a
 * row of logits for every prompt position costs more than one extra pass.
 */
const SPLIT_LAST_TOKEN_FROM = 8;

export class LocalModel {
  private readonly cache: KvCache;
  /** Float32 copy of fp16 logits (float32 logits are used where ONNX Runtime put them). */
  private readonly logitsBuffer: Float32Array;
  private readonly scratch: Float32Array;
  private maskBuffer = new BigInt64Array(0);
  private queue: Promise<void> = Promise.resolve();
  private disposed = false;
  private readonly presentNames: string[];

  private constructor(
    readonly info: ModelInfo,
    readonly tokenizer: ModelTokenizer,
    readonly folder: ModelFolder,
    private readonly session: InferenceSession,
    private readonly signature: GraphSignature,
    private readonly logger: RuntimeLogger,
    private readonly prefillChunk: number,
    /** The graph computes one row of logits per pass, however many tokens it runs. */
    private readonly lastPositionOnly: boolean,
    private readonly profiling: Pick<LocalModelOptions, 'onForwardPass' | 'ortProfilePrefix'> = {},
  ) {
    this.cache = new KvCache(signature);
    this.logitsBuffer = new Float32Array(info.vocabSize);
    this.scratch = new Float32Array(info.vocabSize);
    this.presentNames = signature.cache.map((layer) => layer.presentName);
  }

  static async load(request: LoadModelRequest, options: LocalModelOptions): Promise<LocalModel> {
    const logger = options.logger ?? silentLogger;
    const started = performance.now();
    const resolved = resolveModelReference(request.model, { packageRoot: options.packageRoot, cwd: options.cwd });
    const folder = await readModelFolder(resolved.dir, request.variant ?? 'auto');
    let tokenizer: HuggingFaceTokenizer;
    try {
      tokenizer = await loadTokenizerFromFolder(resolved.dir, { id: resolved.id, label: resolved.label });
    } catch (error) {
      if (error instanceof ModelError) throw error;
      const readFailure = error instanceof Error && error.cause instanceof Error ? error.cause : error;
      if ((readFailure as NodeJS.ErrnoException).code) throw cannotReadError(`${resolved.dir}/tokenizer.json`, readFailure, resolved.dir);
      throw new ModelError('tokenizer', `The tokenizer of ${resolved.dir} cannot be loaded: ${errorMessage(error)}`, `${resolved.dir}/tokenizer.json`);
    }
    // Before the session: a tokenizer from another model would fail later, in ONNX Runtime, blaming model.onnx.
    const tokenizerPath = `${resolved.dir}/tokenizer.json`;
    const mismatch = vocabularyMismatch({ tokenizerPath, tokenizerMaxId: tokenizer.maxId, configVocabSize: folder.architecture.vocabSize, onnxPath: folder.onnxPath, embeddingRows: await readEmbeddingRows(folder.onnxPath) });
    if (mismatch) throw new ModelError('tokenizer', mismatch, tokenizerPath);
    const threads = resolveThreads(request.threads);
    logger.info('loading model', { dir: resolved.dir, file: folder.onnxPath, variant: folder.variant, threads });
    // Only 4-bit files hold MatMulNBits; reading other variants into memory would be wasted.
    const int4 = folder.variant === 'q4' || folder.variant === 'q4f16';
    const { session, patchedNodes, lastPositionLogits } = await createSession(folder.onnxPath, { threads, int4AccuracyLevel: int4 && request.matmulPrecision !== 'exact' ? 4 : undefined, profileFilePrefix: options.ortProfilePrefix });
    let signature: GraphSignature;
    try {
      signature = readGraphSignature(session.inputMetadata, session.outputMetadata, folder.architecture, folder.onnxPath);
    } catch (error) {
      await session.release();
      throw error;
    }
    const eosTokenIds = [...folder.generation.eosTokenIds];
    if (eosTokenIds.length === 0) {
      const eos = tokenString(folder.tokenizerConfig.eos_token);
      const id = eos === undefined ? undefined : (tokenizer.specialTokens.get(eos) ?? tokenizer.tokenToId(eos));
      if (id !== undefined) eosTokenIds.push(id);
    }
    const arch = folder.architecture;
    const logitsDim = session.outputMetadata.find((meta) => meta.name === 'logits');
    const logitsShape = logitsDim && 'shape' in logitsDim ? logitsDim.shape : [];
    const graphVocab = typeof logitsShape[logitsShape.length - 1] === 'number' ? (logitsShape[logitsShape.length - 1] as number) : arch.vocabSize;
    const info: ModelInfo = {
      id: resolved.id,
      label: resolved.label,
      dir: resolved.dir,
      modelType: arch.modelType,
      variant: folder.variant,
      onnxFile: folder.onnxPath,
      availableVariants: folder.availableVariants,
      weightBytes: folder.weightBytes,
      contextLength: arch.contextLength,
      vocabSize: Math.max(graphVocab, arch.vocabSize),
      numLayers: arch.numLayers,
      numHeads: arch.numHeads,
      numKvHeads: arch.numKvHeads,
      headDim: arch.headDim,
      hiddenSize: arch.hiddenSize,
      cacheType: signature.cacheType,
      graphInputs: signature.inputNames,
      eosTokenIds,
      hasChatTemplate: folder.chatTemplate !== undefined,
      templateSupportsThinking: templateSupportsThinking(folder.chatTemplate),
      specialTokens: Object.fromEntries(tokenizer.specialTokens),
      threads,
      int8ComputeNodes: patchedNodes,
      loadMs: Math.round(performance.now() - started),
    };
    logger.info('model loaded', { id: info.id, loadMs: info.loadMs, inputs: signature.inputNames.length, cacheType: signature.cacheType });
    return new LocalModel(info, tokenizer, folder, session, signature, logger, options.prefillChunk ?? DEFAULT_PREFILL_CHUNK, lastPositionLogits || signature.numLogitsToKeep !== undefined, options);
  }

  /** Prompt token ids of a request's prompt (before context-window truncation). */
  encodePrompt(prompt: PromptInput): number[] {
    return encodePromptInput(this, prompt);
  }

  /**
   * The logits of the token after `ids` (a copy), through the same cache path generation uses:
   * with `reuseCache` the shared prefix is not recomputed. For tests and scoring tools.
   */
  async nextTokenLogits(ids: readonly number[], options: { readonly reuseCache?: boolean; readonly signal?: AbortSignal } = {}): Promise<Float32Array> {
    if (ids.length === 0) throw new RangeError('nextTokenLogits needs at least one token');
    if (ids.length >= this.info.contextLength) throw new RangeError(`${ids.length} tokens do not fit the context window of ${this.info.contextLength}`);
    const release = await this.acquire(options.signal);
    try {
      const reuse = options.reuseCache === false ? 0 : Math.min(commonPrefixLength(this.cache.ids, ids), ids.length - 1);
      this.cache.truncate(reuse);
      try {
        return Float32Array.from(await this.prefill(ids.slice(reuse), () => undefined));
      } catch (error) {
        throw this.runError(error);
      }
    } finally {
      release();
    }
  }

  /** Tokens currently in the KV cache (for tests and diagnostics). */
  get cachedTokens(): readonly number[] {
    return this.cache.ids;
  }

  clearCache(): void {
    this.cache.clear();
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.cache.clear();
    if (this.profiling.ortProfilePrefix) await this.session.endProfiling();
    await this.session.release();
  }

  /**
   * Streams one generation. Requests run one at a time (they share the KV cache); a request
   * waiting for its turn can be aborted. Aborting stops within one forward pass and rejects the
   * iteration with a GenerationAbortedError.
   */
  generate(request: GenerateRequest, signal?: AbortSignal): AsyncIterable<GenerationEvent> {
    return { [Symbol.asyncIterator]: () => this.run(request, signal)[Symbol.asyncIterator]() };
  }

  private async *run(request: GenerateRequest, signal: AbortSignal | undefined): AsyncGenerator<GenerationEvent> {
    if (this.disposed) throw new ModelError('process', 'The model was unloaded.');
    const sampling = this.resolveSampling(request);
    const topLogprobs = Math.max(0, Math.min(MAX_TOP_LOGPROBS, Math.floor(request.topLogprobs ?? 0)));
    const promptIds = this.encodePrompt(request.prompt);
    const release = await this.acquire(signal);
    try {
      yield* this.generateLocked(request, promptIds, sampling, topLogprobs, signal);
    } finally {
      release();
    }
  }

  private async acquire(signal: AbortSignal | undefined): Promise<() => void> {
    let release!: () => void;
    const previous = this.queue;
    this.queue = new Promise<void>((resolve) => (release = resolve));
    if (signal) {
      const aborted = new Promise<never>((_, reject) => {
        if (signal.aborted) reject(new GenerationAbortedError());
        signal.addEventListener('abort', () => reject(new GenerationAbortedError()), { once: true });
      });
      aborted.catch(() => undefined);
      try {
        await Promise.race([previous, aborted]);
      } catch (error) {
        // Our turn is skipped: hand it to the next waiter once the previous one finishes.
        void previous.then(release);
        throw error;
      }
    } else {
      await previous;
    }
    return release;
  }

  private resolveSampling(request: GenerateRequest): ResolvedSampling {
    const defaults = this.folder.generation;
    const given = request.sampling ?? {};
    const temperature = given.temperature ?? (defaults.doSample ? (defaults.temperature ?? 1) : 0);
    const topK = given.topK ?? (defaults.doSample ? (defaults.topK ?? 0) : 0);
    const topP = given.topP ?? (defaults.doSample ? (defaults.topP ?? 1) : 1);
    const repetitionPenalty = given.repetitionPenalty ?? defaults.repetitionPenalty ?? 1;
    if (!(temperature >= 0) || !Number.isFinite(temperature)) throw new RangeError(`temperature must be 0 or more, got ${temperature}`);
    if (!(topP > 0 && topP <= 1)) throw new RangeError(`topP must be in (0, 1], got ${topP}`);
    if (!(topK >= 0) || !Number.isInteger(topK)) throw new RangeError(`topK must be a whole number >= 0, got ${topK}`);
    if (!(repetitionPenalty > 0) || !Number.isFinite(repetitionPenalty)) throw new RangeError(`repetitionPenalty must be more than 0, got ${repetitionPenalty}`);
    const seed = given.seed ?? Math.floor(Math.random() * 2 ** 31);
    if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
    return { temperature, topK, topP, repetitionPenalty, seed };
  }

  private async *generateLocked(
    request: GenerateRequest,
    allPromptIds: number[],
    sampling: ResolvedSampling,
    topLogprobs: number,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<GenerationEvent> {
    const checkAbort = () => {
      if (signal?.aborted) throw new GenerationAbortedError();
    };
    checkAbort();
    const contextLength = this.info.contextLength;
    let promptIds = allPromptIds;
    if (promptIds.length === 0) {
      throw new RangeError('The prompt is empty: give the model at least one token of text.');
    }
    // Context window: keep room for maxTokens, drop the oldest prompt tokens if needed.
    const requestedMax = Math.max(1, Math.floor(request.maxTokens ?? DEFAULT_MAX_TOKENS));
    const maxTokens = Math.min(requestedMax, contextLength - 1);
    const room = contextLength - maxTokens;
    const truncatedTokens = Math.max(0, promptIds.length - room);
    if (truncatedTokens > 0) {
      promptIds = promptIds.slice(truncatedTokens);
      this.logger.debug('prompt truncated to fit the context window', { truncatedTokens, contextLength, maxTokens });
    }
    // Prefix reuse: keep the cached positions shared with this prompt, but always run at least
    // the last prompt token to get its logits.
    const reuse = request.reuseCache === false ? 0 : Math.min(commonPrefixLength(this.cache.ids, promptIds), promptIds.length - 1);
    this.cache.truncate(reuse);
    yield { type: 'start', promptTokens: promptIds.length, reusedTokens: reuse, truncatedTokens, maxTokens, seed: sampling.seed };

    const prefillStart = performance.now();
    let logits: Float32Array;
    try {
      logits = await this.prefill(promptIds.slice(reuse), checkAbort);
    } catch (error) {
      throw this.runError(error);
    }
    const prefillMs = performance.now() - prefillStart;

    const random = new SeededRandom(sampling.seed);
    const seen = new Set<number>(sampling.repetitionPenalty !== 1 ? promptIds : []);
    const eos = new Set(request.ignoreEos ? [] : this.info.eosTokenIds);
    const stopIds = new Set(request.stopTokenIds ?? []);
    const detokenizer = new IncrementalDetokenizer(this.tokenizer, promptIds);
    const stops = new StopMatcher<{ id: number; logprob: number; top: TokenAlternative[] }>(request.stop ?? []);
    let text = '';
    let generated = 0;
    let emitted = 0;
    let finishReason: FinishReason = 'length';
    let stopSequence: string | undefined;
    let stoppedByText = false;
    const decodeStart = performance.now();
    const emit = (entries: { token: { id: number; logprob: number; top: TokenAlternative[] }; text: string }[]): TokenEvent[] =>
      entries.map((entry) => {
        text += entry.text;
        return { type: 'token', index: emitted++, id: entry.token.id, text: entry.text, logprob: entry.token.logprob, top: entry.token.top };
      });

    for (;;) {
      checkAbort();
      // Greedy on raw logits: the pick and the normalizer in one pass over the vocabulary.
      const greedyOnRaw = sampling.temperature <= 0 && (sampling.repetitionPenalty === 1 || seen.size === 0);
      const greedy = greedyOnRaw ? argmaxLogSumExp(logits) : undefined;
      const id = greedy ? greedy.index : pickToken(logits, sampling, seen, random, this.scratch);
      const logTotal = greedy ? greedy.logSumExp : logSumExp(logits, 1);
      const logprob = logits[id] - logTotal;
      const top = topLogprobs > 0 ? topKIndices(logits, topLogprobs).map((alt) => ({ id: alt, text: this.tokenizer.decode([alt]), logprob: logits[alt] - logTotal })) : [];
      if (eos.has(id)) {
        finishReason = 'eos';
        stopSequence = this.tokenizer.decode([id]) || undefined;
        break;
      }
      if (stopIds.has(id)) {
        finishReason = 'stop';
        stopSequence = this.tokenizer.decode([id]);
        break;
      }
      generated++;
      if (sampling.repetitionPenalty !== 1) seen.add(id);
      const result = stops.push({ id, logprob, top }, detokenizer.push(id));
      for (const event of emit(result.release)) yield event;
      if (result.stop !== undefined) {
        stoppedByText = true;
        finishReason = 'stop';
        stopSequence = result.stop;
        break;
      }
      if (generated >= maxTokens) {
        finishReason = 'length';
        break;
      }
      if (this.cache.length + 1 >= contextLength) {
        finishReason = 'context';
        break;
      }
      try {
        logits = await this.forward([id], true, checkAbort);
      } catch (error) {
        throw this.runError(error);
      }
    }
    // Text held back as a possible stop sequence start is output after all (a matched stop
    // sequence already dropped it). Bytes of an unfinished character at the very end are dropped.
    if (!stoppedByText) for (const event of emit(stops.flush())) yield event;
    const decodeMs = performance.now() - decodeStart;
    yield {
      type: 'end',
      finishReason,
      stopSequence,
      text,
      timings: {
        prefillMs: round(prefillMs),
        decodeMs: round(decodeMs),
        promptTokens: promptIds.length,
        prefilledTokens: promptIds.length - reuse,
        generatedTokens: generated,
        tokensPerSecond: decodeMs > 0 && generated > 1 ? round(((generated - 1) * 1000) / decodeMs) : 0,
      },
    };
  }

  /** Runs prompt tokens through the model; returns the last position's logits. */
  private async prefill(ids: readonly number[], checkAbort: () => void): Promise<Float32Array> {
    const splitLast = !this.lastPositionOnly && ids.length >= SPLIT_LAST_TOKEN_FROM;
    const body = splitLast ? ids.slice(0, -1) : ids;
    let logits: Float32Array | undefined;
    for (let start = 0; start < body.length; start += this.prefillChunk) {
      const chunk = body.slice(start, start + this.prefillChunk);
      const last = !splitLast && start + this.prefillChunk >= body.length;
      logits = await this.forward(chunk, last, checkAbort);
    }
    if (splitLast) logits = await this.forward(ids.slice(-1), true, checkAbort);
    return logits!;
  }

  /** One forward pass over `tokens` after the cached ones; returns the last position's logits when asked. */
  private async forward(tokens: readonly number[], wantLogits: true, checkAbort: () => void): Promise<Float32Array>;
  private async forward(tokens: readonly number[], wantLogits: boolean, checkAbort: () => void): Promise<Float32Array | undefined>;
  private async forward(tokens: readonly number[], wantLogits: boolean, checkAbort: () => void): Promise<Float32Array | undefined> {
    // session.run blocks this thread for the whole pass. Let the event loop turn first so a
    // cancel message that arrived during the previous pass is seen before starting another.
    await new Promise<void>((resolve) => setImmediate(resolve));
    checkAbort();
    const feedsStart = this.profiling.onForwardPass ? performance.now() : 0;
    const past = this.cache.length;
    const total = past + tokens.length;
    const signature = this.signature;
    const feeds: Record<string, TensorType> = {};
    const ids = new BigInt64Array(tokens.length);
    for (let i = 0; i < tokens.length; i++) ids[i] = BigInt(tokens[i]);
    feeds.input_ids = new Tensor('int64', ids, [1, tokens.length]);
    if (signature.hasAttentionMask) {
      if (this.maskBuffer.length < total) this.maskBuffer = new BigInt64Array(Math.max(total, 2 * this.maskBuffer.length)).fill(1n);
      feeds.attention_mask = new Tensor('int64', this.maskBuffer.subarray(0, total), [1, total]);
    }
    if (signature.hasPositionIds) {
      const positions = new BigInt64Array(tokens.length);
      for (let i = 0; i < tokens.length; i++) positions[i] = BigInt(past + i);
      feeds.position_ids = new Tensor('int64', positions, [1, tokens.length]);
    }
    if (signature.hasUseCacheBranch) feeds.use_cache_branch = new Tensor('bool', [past > 0], [1]);
    const keep = signature.numLogitsToKeep;
    if (keep) {
      // 1 also while prefilling without logits: the graph then computes a single row.
      const dims = keep.scalar ? [] : [1];
      feeds[keep.name] = keep.type === 'int64' ? new Tensor('int64', BigInt64Array.of(1n), dims) : new Tensor('int32', Int32Array.of(1), dims);
    }
    for (const { pastName } of signature.cache) feeds[pastName] = this.cache.past(pastName);
    // Logits only when asked: fewer bytes for the binding to copy out. (ONNX Runtime still runs the
    // LM head for every row it has; the last-position patch is what makes that one row.)
    const fetches = wantLogits || keep ? [signature.logitsName, ...this.presentNames] : this.presentNames;
    const runStart = this.profiling.onForwardPass ? performance.now() : 0;
    const outputs = await this.session.run(feeds, fetches);
    const runEnd = this.profiling.onForwardPass ? performance.now() : 0;
    this.cache.update(outputs, tokens);
    const cacheEnd = this.profiling.onForwardPass ? performance.now() : 0;
    const logits = wantLogits ? this.lastLogits(outputs[signature.logitsName]) : undefined;
    this.profiling.onForwardPass?.({ tokens: tokens.length, pastLength: past, feedsMs: runStart - feedsStart, runMs: runEnd - runStart, cacheMs: cacheEnd - runEnd, logitsMs: performance.now() - cacheEnd });
    return logits;
  }

  /** The last position's logits of a [batch, rows, vocab] output. */
  private lastLogits(logits: TensorType): Float32Array {
    const vocab = logits.dims[logits.dims.length - 1];
    const rows = logits.dims.length === 3 ? logits.dims[1] : 1;
    if (this.signature.logitsType === 'float16') {
      const out = vocab === this.logitsBuffer.length ? this.logitsBuffer : new Float32Array(vocab);
      return halfToFloatArray((logits.data as Uint16Array).subarray((rows - 1) * vocab, rows * vocab), out);
    }
    // A view, not a copy: ONNX Runtime hands over a new array every pass, read only by the caller.
    return (logits.data as Float32Array).subarray((rows - 1) * vocab, rows * vocab);
  }

  /** A failed forward pass leaves the cache in an unknown state: drop it, explain the error. */
  private runError(error: unknown): Error {
    if (error instanceof GenerationAbortedError) return error;
    this.cache.clear();
    if (isOutOfMemory(error)) {
      return new ModelError('out-of-memory', `Ran out of memory running ${this.info.onnxFile}. Use a shorter prompt, a smaller variant (q4) or model, or close other programs. (${errorMessage(error)})`, this.info.onnxFile);
    }
    if (error instanceof ModelError) return error;
    return new ModelError('inference', `ONNX Runtime failed running ${this.info.onnxFile}: ${errorMessage(error)}`, this.info.onnxFile);
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
