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
 *
 * Opening the model is modelLoader.ts; running forward passes over the KV cache is forwardPass.ts;
 * looking inside (attention, logit lens, embeddings) is inspector.ts + inspection.ts, on a session
 * of its own created on first use. This file holds the requests: one at a time, sampling, stops, events.
 */
// First: ONNX Runtime must see its telemetry switch before it loads.
import './ortTelemetry';
import type { InferenceSession } from 'onnxruntime-node';
import { ModelError, errorMessage, isOutOfMemory } from '../models/errors';
import type { ModelFolder } from '../models/modelFolder';
import type { ModelTokenizer } from '../tokenizers/types';
import { IncrementalDetokenizer } from './detokenizer';
import { ModelGraph, type ForwardPassTimings } from './forwardPass';
import type { GraphSignature } from './graphSignature';
import { answerInspection } from './inspection';
import { ModelInspector, type InspectionRun } from './inspector';
import type { InspectRequest, InspectResultFor } from './inspectTypes';
import { commonPrefixLength } from './tokenPrefix';
import { openModel } from './modelLoader';
import type { RowSource } from '../probabilities/scoring';
import { encodePromptInput } from './promptEncoding';
import { SeededRandom, argmaxLogSumExp, logSumExp, pickToken, resolveSampling, topKIndices, type ResolvedSampling } from './sampling';
import { StopMatcher } from './stopMatcher';
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

export type { ForwardPassTimings } from './forwardPass';

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

export const DEFAULT_MAX_TOKENS = 256;
export const MAX_TOP_LOGPROBS = 20;
const DEFAULT_PREFILL_CHUNK = 256;

export class LocalModel {
  private readonly graph: ModelGraph;
  private readonly scratch: Float32Array;
  private queue: Promise<void> = Promise.resolve();
  private disposed = false;
  private inspector: Promise<ModelInspector> | undefined;

  private constructor(
    readonly info: ModelInfo,
    readonly tokenizer: ModelTokenizer,
    readonly folder: ModelFolder,
    session: InferenceSession,
    private readonly signature: GraphSignature,
    private readonly logger: RuntimeLogger,
    prefillChunk: number,
    lastPositionOnly: boolean,
    private readonly profiling: Pick<LocalModelOptions, 'onForwardPass' | 'ortProfilePrefix'> = {},
  ) {
    this.graph = new ModelGraph(session, signature, info.vocabSize, prefillChunk, lastPositionOnly, profiling.onForwardPass);
    this.scratch = new Float32Array(info.vocabSize);
  }

  static async load(request: LoadModelRequest, options: LocalModelOptions): Promise<LocalModel> {
    const logger = options.logger ?? silentLogger;
    const { info, tokenizer, folder, session, signature, lastPositionOnly } = await openModel(request, options, logger);
    return new LocalModel(info, tokenizer, folder, session, signature, logger, options.prefillChunk ?? DEFAULT_PREFILL_CHUNK, lastPositionOnly, options);
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
      const reuse = options.reuseCache === false ? 0 : Math.min(commonPrefixLength(this.graph.cache.ids, ids), ids.length - 1);
      this.graph.cache.truncate(reuse);
      try {
        return Float32Array.from(await this.graph.prefill(ids.slice(reuse), () => undefined));
      } catch (error) {
        throw this.runError(error);
      }
    } finally {
      release();
    }
  }

  /**
   * Runs `work` with the model's forward passes to itself (after the requests before it, as a
   * generation would): scoring a text reads every row of logits through this. A failed pass drops
   * the cache and reports what failed.
   */
  async withForwardPasses<T>(work: (source: RowSource) => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.disposed) throw new ModelError('process', 'The model was unloaded.');
    const release = await this.acquire(signal);
    const graph = this.graph;
    const source: RowSource = {
      contextLength: this.info.contextLength,
      get cachedIds() {
        return graph.cache.ids;
      },
      truncateCache: (length) => graph.cache.truncate(length),
      forward: (async (tokens: readonly number[], rows: boolean, checkAbort: () => void) => {
        if (rows) return graph.forwardEveryRow(tokens, checkAbort);
        await graph.forward(tokens, false, checkAbort);
      }) as RowSource['forward'],
    };
    try {
      return await work(source);
    } catch (error) {
      throw this.runError(error);
    } finally {
      release();
    }
  }

  /**
   * Attention rows, the logit lens or an embedding's neighbours (inspectTypes.ts), from the
   * inspection session (created on first use). Runs in turn with generations.
   */
  async inspect<R extends InspectRequest>(request: R, signal?: AbortSignal): Promise<InspectResultFor<R>> {
    return this.withInspector(signal, async (inspector) => (await answerInspection({ inspector, tokenizer: this.tokenizer, numLayers: this.info.numLayers, contextLength: this.info.contextLength }, request)) as InspectResultFor<R>);
  }

  /** The inspection pass's raw outputs for `ids` at `position` (tests and benchmarks). */
  inspectionRun(ids: readonly number[], position: number): Promise<InspectionRun> {
    return this.withInspector(undefined, (inspector) => inspector.run(ids, position));
  }

  private async withInspector<T>(signal: AbortSignal | undefined, work: (inspector: ModelInspector) => Promise<T>): Promise<T> {
    if (this.disposed) throw new ModelError('process', 'The model was unloaded.');
    const release = await this.acquire(signal);
    try {
      this.inspector ??= ModelInspector.create(this.info.onnxFile, this.signature, this.info.numLayers, this.info.threads);
      const created = this.inspector;
      created.catch(() => {
        if (this.inspector === created) this.inspector = undefined;
      });
      return await work(await created);
    } catch (error) {
      if (error instanceof RangeError) throw error;
      throw this.runError(error);
    } finally {
      release();
    }
  }

  /** Tokens currently in the KV cache (for tests and diagnostics). */
  get cachedTokens(): readonly number[] {
    return this.graph.cache.ids;
  }

  clearCache(): void {
    this.graph.cache.clear();
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const inspector = this.inspector;
    this.inspector = undefined;
    await inspector?.then((created) => created.release()).catch(() => undefined);
    await this.graph.release(Boolean(this.profiling.ortProfilePrefix));
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
    return resolveSampling(request.sampling, this.folder.generation);
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
    const reuse = request.reuseCache === false ? 0 : Math.min(commonPrefixLength(this.graph.cache.ids, promptIds), promptIds.length - 1);
    this.graph.cache.truncate(reuse);
    yield { type: 'start', promptTokens: promptIds.length, reusedTokens: reuse, truncatedTokens, maxTokens, seed: sampling.seed };

    const prefillStart = performance.now();
    let logits: Float32Array;
    try {
      logits = await this.graph.prefill(promptIds.slice(reuse), checkAbort);
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
      if (this.graph.cache.length + 1 >= contextLength) {
        finishReason = 'context';
        break;
      }
      try {
        logits = await this.graph.forward([id], true, checkAbort);
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

  /** A failed forward pass leaves the cache in an unknown state: drop it, explain the error. */
  private runError(error: unknown): Error {
    if (error instanceof GenerationAbortedError) return error;
    this.graph.cache.clear();
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
