import { isAbortError, SupersededError, type CompletionBackend, type GenerateSummary } from './backend';
import type { CostEstimator, CostLine } from '../pricing/cost';
import type { CursorPosition, DocumentLines } from './document';
import type { ExtraContextBuffer } from './extraContext';
import type { FimTemplate } from './fimTemplates';
import { LruCache } from './lruCache';
import { completionShape, cutRepetition, postProcess, shapeCompletion, type CompletionShape, type CursorContext } from './postProcess';
import { defaultEngineSettings } from './defaults';
import { defaultPromptBudget, extractWindow, windowKey, type LocalWindow, type PromptBuilder } from './promptBuilder';

/** A loaded model as the completion engine sees it. */
export interface CompletionModel {
  /** Stable id (`mini`, a folder path) for cache keys. */
  readonly id: string;
  readonly label: string;
  /** Builds token-id prompts with the model's tokenizer (in this thread or a worker). */
  readonly prompts: PromptBuilder;
  readonly template: FimTemplate;
  /** max_position_embeddings of config.json. */
  readonly contextLength: number;
  /** eos ids of generation_config.json, also stop tokens. */
  readonly eosTokenIds: readonly number[];
  readonly backend: CompletionBackend;
}

export interface EngineSettings {
  readonly debounceMs: number;
  readonly maxTokens: number;
  readonly linesBefore: number;
  readonly linesAfter: number;
  readonly triggerInMiddleOfWord: boolean;
  readonly extraContext: boolean;
  /** Tokens of the local window (prefix + suffix). */
  readonly windowTokens: number;
  readonly extraContextTokens: number;
  /** Suggestions kept in the LRU cache (llama.vscode: 250). */
  readonly cacheSize: number;
  /** Pre-compute the next suggestion after an accept. */
  readonly speculative: boolean;
  /** Most lines of a multi-line suggestion. */
  readonly maxLines: number;
  /**
   * Prompt-processing time to aim for per request: the suffix (recomputed every time, unlike the
   * prefix) is capped to what the model prefills in this time, as measured on recent requests.
   */
  readonly prefillTargetMs: number;
  /**
   * Automatic suggestions whose confidence (see CompletionResult.confidence) is below this are not
   * shown; an explicit request (Alt+\\) shows them anyway. 0 shows everything.
   */
  readonly minConfidence: number;
}

export { defaultEngineSettings };

export interface CompletionRequest {
  readonly document: DocumentLines;
  readonly position: CursorPosition;
  /** Path of the file, relative to the workspace where possible (repository context, logs). */
  readonly path: string;
  /** `explicit`: Alt+\ or the command; bypasses debounce and the mid-word rule. */
  readonly trigger: 'automatic' | 'explicit';
  readonly repoName?: string;
}

export type CompletionSource = 'model' | 'cache' | 'typing-along' | 'speculative';

export interface CompletionResult {
  /** Text to insert at the cursor. */
  readonly text: string;
  readonly source: CompletionSource;
  readonly shape: CompletionShape;
  /** From the call (the end of typing) to the suggestion, debounce included. */
  readonly latencyMs: number;
  /** The model's share: prompt building plus generation (0 for cache hits). */
  readonly modelLatencyMs: number;
  readonly promptTokens: number;
  readonly generatedTokens: number;
  readonly reusedPromptTokens?: number;
  readonly tokensPerSecond?: number;
  /**
   * How sure the model was: the geometric mean of the probabilities it gave each generated token
   * (exp of the mean log-probability), 0..1; undefined when the backend reports no probabilities.
   */
  readonly confidence?: number;
  /** Why there is no confidence (the server sent no token probabilities), to say so instead of staying silent. */
  readonly noConfidence?: string;
  /** Template label, e.g. `Qwen2.5-Coder FIM`. */
  readonly template: string;
  readonly costs: readonly CostLine[];
  /** Cache key of the window this suggestion answers (see accept()). */
  readonly key: string;
}

/** One model request, as recorded for cost features and the benchmark. */
export interface CompletionRecord {
  readonly path: string;
  readonly template: string;
  readonly promptTokens: number;
  readonly generatedTokens: number;
  readonly reusedPromptTokens?: number;
  readonly latencyMs: number;
  readonly speculative: boolean;
  readonly outcome: 'completed' | 'empty' | 'cancelled' | 'error';
  readonly costs: readonly CostLine[];
}

export interface EngineStats {
  /** Automatic suggestions not shown because the model's confidence was below minConfidence. */
  hiddenUnsure: number;
  /** complete() calls. */
  calls: number;
  /** Calls skipped by the trigger rules (mid-word). */
  skipped: number;
  cacheHits: number;
  typingAlongHits: number;
  /** Calls answered by (or joined to) a speculative request. */
  speculativeHits: number;
  /** Requests sent to the model (speculative included). */
  modelRequests: number;
  /** Requests aborted before finishing (superseded or cancelled). */
  cancelledRequests: number;
  /** Tokens generated by requests that were then aborted. */
  wastedTokens: number;
  /** Calls settled with undefined because a newer call superseded them. */
  superseded: number;
  errors: number;
  /** Longest synchronous stretch of engine work on the caller's thread (window, cache, prompt building, post-processing), ms. */
  maxSyncMs: number;
}

export interface EngineOptions {
  /** Resolves the current model; rejects with a user-facing reason when there is none. */
  readonly getModel: () => Promise<CompletionModel> | CompletionModel;
  readonly settings?: Partial<EngineSettings>;
  readonly extraContext?: ExtraContextBuffer;
  readonly costs?: CostEstimator;
  /** Called for every model request (completed, empty, cancelled or failed). */
  readonly onRecord?: (record: CompletionRecord) => void;
  /** Called when a model request starts / ends (status bar); `end` always follows `start`. */
  readonly onRequestStart?: () => void;
  /** An automatic suggestion was not shown: the model's confidence was below `minConfidence`. */
  readonly onHiddenUnsure?: (result: CompletionResult, minConfidence: number) => void;
  readonly onRequestEnd?: (outcome: { readonly result?: CompletionResult; readonly error?: unknown; readonly cancelled: boolean }) => void;
  readonly now?: () => number;
}

interface CacheEntry {
  readonly text: string;
  readonly result: CompletionResult;
}

interface InFlight {
  readonly key: string;
  readonly controller: AbortController;
  readonly promise: Promise<CompletionResult | undefined>;
  readonly speculative: boolean;
}

/** The suffix never shrinks below this many tokens, however slow the model: FIM needs some right context. */
const minimumSuffixTokens = 32;

/** Word characters for the mid-word rule. */
const wordChar = /[\p{L}\p{N}_$]/u;

/**
 * The completion core shared by the VS Code provider, the CLI and the benchmark: debounced,
 * cancellable, cached, with typing-along and speculative pre-computation. Only one model request
 * runs at a time; a newer call aborts the older request in the model process.
 */
export class CompletionEngine {
  private settings: EngineSettings;
  private cache: LruCache<string, CacheEntry>;
  private pending: { readonly settle: () => void } | undefined;
  /** Number of the newest complete() call; an older call that finds a newer number settles with undefined. */
  private callSeq = 0;
  private inFlight: InFlight | undefined;
  private readonly now: () => number;
  /** Measured prompt tokens per millisecond (moving average over requests that prefilled enough). */
  private prefillRate: number | undefined;
  readonly stats: EngineStats = { hiddenUnsure: 0, calls: 0, skipped: 0, cacheHits: 0, typingAlongHits: 0, speculativeHits: 0, modelRequests: 0, cancelledRequests: 0, wastedTokens: 0, superseded: 0, errors: 0, maxSyncMs: 0 };

  constructor(private readonly options: EngineOptions) {
    this.settings = { ...defaultEngineSettings, ...options.settings };
    this.cache = new LruCache(this.settings.cacheSize);
    this.now = options.now ?? (() => performance.now());
  }

  updateSettings(settings: Partial<EngineSettings>): void {
    const previous = this.settings;
    this.settings = { ...this.settings, ...settings };
    const promptChanged = (['linesBefore', 'linesAfter', 'windowTokens', 'maxTokens'] as const).some((key) => previous[key] !== this.settings[key]);
    if (previous.cacheSize !== this.settings.cacheSize || promptChanged) this.cache = new LruCache(this.settings.cacheSize);
  }

  /** Forgets cached suggestions (after a model switch). */
  clearCache(): void {
    this.cache.clear();
  }

  /**
   * Returns a suggestion for the cursor, or undefined when there is none, the trigger rules skip
   * the position, the signal is aborted, or a newer call superseded this one. Never hangs: every
   * superseded call settles with undefined. Rejects only on a real failure (no model, model crashed).
   */
  async complete(request: CompletionRequest, signal?: AbortSignal): Promise<CompletionResult | undefined> {
    const result = await this.find(request, signal);
    // The gate applies to every source (model, cache, typing-along, speculation): an unsure answer
    // stays cached, so asking explicitly at the same spot shows it at once.
    if (result && request.trigger === 'automatic' && result.confidence !== undefined && result.confidence < this.settings.minConfidence) {
      this.stats.hiddenUnsure++;
      this.options.onHiddenUnsure?.(result, this.settings.minConfidence);
      return undefined;
    }
    return result;
  }

  private async find(request: CompletionRequest, signal?: AbortSignal): Promise<CompletionResult | undefined> {
    const startedAt = this.now();
    this.stats.calls++;
    const ticket = ++this.callSeq;
    // Any older call still waiting in its debounce settles now.
    this.pending?.settle();
    this.pending = undefined;
    if (signal?.aborted) return undefined;
    const supersededNow = () => {
      if (ticket === this.callSeq) return false;
      this.stats.superseded++;
      return true;
    };

    const line = request.document.lineText(request.position.line);
    if (request.trigger === 'automatic' && !this.settings.triggerInMiddleOfWord && wordChar.test(line.charAt(request.position.character)) && line.slice(request.position.character).trim().length > 0) {
      this.stats.skipped++;
      return undefined;
    }

    const model = await this.options.getModel();
    if (supersededNow() || signal?.aborted) return undefined;
    const syncStart = this.now();
    const window = extractWindow(request.document, request.position, this.settings, request.path, request.repoName);
    const key = this.keyOf(model, window);
    // The user moved on: a running request for another window is useless now (a speculative one may
    // still be what the next pause needs, so it runs until a real request replaces it).
    if (this.inFlight && !this.inFlight.speculative && this.inFlight.key !== key) {
      this.inFlight.controller.abort(new SupersededError());
    }

    const cached = this.cache.get(key);
    const along = cached ? undefined : this.typingAlong(model, window);
    this.noteSync(syncStart);
    if (cached) return this.fromCache(cached, key, startedAt);
    if (along) {
      this.stats.typingAlongHits++;
      const result: CompletionResult = { ...along.result, text: along.text, source: 'typing-along', latencyMs: this.now() - startedAt, modelLatencyMs: 0, key };
      this.cache.set(key, { text: along.text, result });
      return result;
    }
    // A speculative request for exactly this window is already running: wait for it instead.
    const beforeDebounce = await this.joinInFlight(key, signal, supersededNow, startedAt);
    if (beforeDebounce.joined) return beforeDebounce.result;

    // Debounce: wait for a pause in typing; a newer call or the signal settles this one with undefined.
    const settled = await this.debounce(request.trigger === 'explicit' ? 0 : this.settings.debounceMs, signal);
    if (!settled || ticket !== this.callSeq) {
      if (!signal?.aborted) this.stats.superseded++;
      return undefined;
    }
    // The accept that started a speculation for this window may have arrived during the debounce:
    // it is running (join it) or already done (its answer is in the cache).
    const afterDebounce = await this.joinInFlight(key, signal, supersededNow, startedAt);
    if (afterDebounce.joined) return afterDebounce.result;
    const finished = this.cache.get(key);
    if (finished) return this.fromCache(finished, key, startedAt);
    return this.request(model, window, key, { speculative: false, signal, startedAt });
  }

  /**
   * Tells the engine a suggestion was accepted; with `after` (the document and cursor after the
   * accept) it pre-computes the next suggestion in the background, so the next pause is a cache hit.
   */
  accept(result: CompletionResult, after?: Omit<CompletionRequest, 'trigger'>): void {
    if (!after || !this.settings.speculative) return;
    void this.prefetch(after);
  }

  /** Computes and caches a suggestion without debounce; a real request with another key aborts it. */
  async prefetch(request: Omit<CompletionRequest, 'trigger'>): Promise<CompletionResult | undefined> {
    try {
      const model = await this.options.getModel();
      const window = extractWindow(request.document, request.position, this.settings, request.path, request.repoName);
      const key = this.keyOf(model, window);
      if (this.cache.peek(key) || this.inFlight?.key === key) return undefined;
      return await this.request(model, window, key, { speculative: true, startedAt: this.now() });
    } catch {
      // A failed speculation is not the user's problem; the real request will report it.
      return undefined;
    }
  }

  /** Aborts whatever runs and settles every waiting call. */
  dispose(): void {
    this.pending?.settle();
    this.pending = undefined;
    this.inFlight?.controller.abort(new SupersededError());
    this.inFlight = undefined;
  }

  /** Prompt tokens per second the model prefills, as measured (undefined before the first request). */
  get prefillTokensPerSecond(): number | undefined {
    return this.prefillRate === undefined ? undefined : this.prefillRate * 1000;
  }

  private noteSync(since: number): void {
    const elapsed = this.now() - since;
    if (elapsed > this.stats.maxSyncMs) this.stats.maxSyncMs = elapsed;
  }

  private learnPrefillRate(prefilledTokens: number | undefined, firstTokenMs: number | undefined): void {
    // Few tokens measure mostly fixed overhead (one decode step, IPC): they would understate the rate.
    if (prefilledTokens === undefined || firstTokenMs === undefined || prefilledTokens < 32 || firstTokenMs <= 0) return;
    const rate = prefilledTokens / firstTokenMs;
    this.prefillRate = this.prefillRate === undefined ? rate : this.prefillRate * 0.7 + rate * 0.3;
  }

  /** A cached answer (an empty one means "nothing to suggest here": undefined, without asking again). */
  private fromCache(entry: CacheEntry, key: string, startedAt: number): CompletionResult | undefined {
    this.stats.cacheHits++;
    const speculative = entry.result.source === 'speculative';
    if (speculative) this.stats.speculativeHits++;
    if (entry.text.length === 0) return undefined;
    return { ...entry.result, text: entry.text, source: speculative ? 'speculative' : 'cache', latencyMs: this.now() - startedAt, modelLatencyMs: 0, key };
  }

  /** Waits for a running request for the same window; `joined: false` when there is none (or it was aborted). */
  private async joinInFlight(key: string, signal: AbortSignal | undefined, supersededNow: () => boolean, startedAt: number): Promise<{ joined: boolean; result?: CompletionResult }> {
    const running = this.inFlight;
    if (!running || running.key !== key) return { joined: false };
    const result = await running.promise.catch(() => undefined);
    if (supersededNow() || signal?.aborted) return { joined: true };
    if (result) {
      this.stats.speculativeHits++;
      return { joined: true, result: { ...result, latencyMs: this.now() - startedAt, key } };
    }
    // It finished with nothing to suggest (cached as empty), or it was aborted (then ask again).
    return { joined: this.cache.peek(key) !== undefined };
  }

  private keyOf(model: CompletionModel, window: LocalWindow): string {
    return `${model.id}|${windowKey(window.prefix, window.suffix)}`;
  }

  /**
   * "Typing along": the user typed the first characters of a suggestion shown for a shorter prefix
   * (same suffix); the rest of that suggestion is still right, so serve it without a request.
   */
  private typingAlong(model: CompletionModel, window: LocalWindow): CacheEntry | undefined {
    const limit = Math.min(64, window.linePrefix.length);
    for (let typed = 1; typed <= limit; typed++) {
      const earlier = this.cache.peek(this.keyOf(model, { ...window, prefix: window.prefix.slice(0, window.prefix.length - typed) }));
      if (!earlier) continue;
      const typedText = window.prefix.slice(window.prefix.length - typed);
      if (earlier.text.length > typed && earlier.text.startsWith(typedText) && earlier.text.slice(typed).trim().length > 0) {
        return { text: earlier.text.slice(typed), result: earlier.result };
      }
    }
    return undefined;
  }

  private debounce(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      let done = false;
      const finish = (value: boolean) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (this.pending === entry) this.pending = undefined;
        resolve(value);
      };
      const onAbort = () => finish(false);
      const entry = { settle: () => finish(false) };
      this.pending = entry;
      signal?.addEventListener('abort', onAbort, { once: true });
      const timer = setTimeout(() => finish(true), ms);
    });
  }

  private request(model: CompletionModel, window: LocalWindow, key: string, how: { speculative: boolean; signal?: AbortSignal; startedAt: number }): Promise<CompletionResult | undefined> {
    // One request at a time: the model process serves one generation, so the older one is aborted there.
    if (this.inFlight) this.inFlight.controller.abort(new SupersededError());
    const controller = new AbortController();
    const onOuterAbort = () => controller.abort(how.signal?.reason ?? new SupersededError());
    how.signal?.addEventListener('abort', onOuterAbort, { once: true });
    const promise = this.generate(model, window, key, controller.signal, how.speculative, how.startedAt).finally(() => {
      how.signal?.removeEventListener('abort', onOuterAbort);
      if (this.inFlight?.controller === controller) this.inFlight = undefined;
    });
    this.inFlight = { key, controller, promise, speculative: how.speculative };
    return promise;
  }

  private async generate(model: CompletionModel, window: LocalWindow, key: string, signal: AbortSignal, speculative: boolean, startedAt: number): Promise<CompletionResult | undefined> {
    const modelStart = this.now();
    this.stats.modelRequests++;
    const buildStart = this.now();
    const built = model.prompts.build({
      window,
      budget: { ...this.settings, prefixShare: defaultPromptBudget.prefixShare, extraContextTokens: this.settings.extraContext ? this.settings.extraContextTokens : 0 },
      contextLength: model.contextLength,
      maxTokens: this.settings.maxTokens,
      extraChunks: this.settings.extraContext ? this.options.extraContext?.snapshot(window.path).map((chunk) => ({ path: chunk.path, content: chunk.content })) : undefined,
      eosTokenIds: model.eosTokenIds,
      maxSuffixTokens: this.prefillRate === undefined ? undefined : Math.max(minimumSuffixTokens, Math.round(this.prefillRate * this.settings.prefillTargetMs)),
    });
    // A local builder works on this thread (count it); a worker's build is waited for, not blocking.
    if (!(built instanceof Promise)) this.noteSync(buildStart);
    const prompt = await built;
    const context: CursorContext = {
      linePrefix: window.linePrefix,
      lineSuffix: window.lineSuffix,
      nextLines: window.nextLines,
      prefix: window.prefix,
      stopStrings: prompt.stopStrings,
      maxLines: this.settings.maxLines,
    };
    const shape = completionShape(window.linePrefix, window.lineSuffix);
    let raw = '';
    let generatedTokens = 0;
    let logprobSum = 0;
    let scoredTokens = 0;
    let outcome: CompletionRecord['outcome'] = 'completed';
    let failure: unknown;
    let result: CompletionResult | undefined;
    let summary: GenerateSummary | undefined;
    // Stopping early (a single line is complete) aborts the rest of the generation in the model process.
    const early = new AbortController();
    const onAbort = () => early.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    if (!speculative) this.options.onRequestStart?.();
    try {
      const stream = model.backend.generate({ promptIds: prompt.ids, maxTokens: this.settings.maxTokens, stopTokenIds: prompt.stopTokenIds, stopStrings: prompt.stopStrings, promptText: prompt.text, fim: prompt.fim }, early.signal);
      for await (const chunk of stream) {
        if (signal.aborted) break;
        raw += chunk.text;
        generatedTokens += chunk.tokens;
        if (chunk.logprob !== undefined) {
          logprobSum += chunk.logprob;
          scoredTokens += chunk.tokens;
        }
        const shaped = shapeCompletion(raw, context);
        // Done when the shape is complete, or the model fell into a loop (the rest would be cut anyway).
        if (shaped.complete || cutRepetition(shaped.text).length < shaped.text.length) break;
      }
      if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new SupersededError();
      const postStart = this.now();
      const text = postProcess(raw, context);
      this.noteSync(postStart);
      const modelLatencyMs = this.now() - modelStart;
      summary = model.backend.lastSummary?.();
      this.learnPrefillRate(summary?.prefilledTokens, summary?.firstTokenMs);
      // A server counts what it really received (and a text prompt has no ids here).
      const promptTokens = summary?.promptTokens ?? prompt.ids.length;
      if (summary?.generatedTokens !== undefined) generatedTokens = summary.generatedTokens;
      result = {
        text: text ?? '',
        source: speculative ? 'speculative' : 'model',
        shape,
        latencyMs: this.now() - startedAt,
        modelLatencyMs,
        promptTokens,
        generatedTokens,
        reusedPromptTokens: summary?.reusedPromptTokens,
        tokensPerSecond: summary?.tokensPerSecond ?? (generatedTokens > 0 && modelLatencyMs > 0 ? generatedTokens / (modelLatencyMs / 1000) : undefined),
        confidence: scoredTokens > 0 ? Math.exp(logprobSum / scoredTokens) : undefined,
        ...(scoredTokens === 0 && summary?.noLogprobs ? { noConfidence: summary.noLogprobs } : {}),
        template: model.template.label,
        costs: this.options.costs?.({ promptTokens, generatedTokens }) ?? [],
        key,
      };
      // Empty answers are cached too: asking again at the same spot would only waste the CPU.
      this.cache.set(key, { text: result.text, result });
      if (text === undefined) {
        outcome = 'empty';
        return undefined;
      }
      return result;
    } catch (error) {
      if (signal.aborted || isAbortError(error)) {
        outcome = 'cancelled';
        this.stats.cancelledRequests++;
        this.stats.wastedTokens += generatedTokens;
        return undefined;
      }
      outcome = 'error';
      failure = error;
      this.stats.errors++;
      throw error;
    } finally {
      early.abort(new SupersededError());
      signal.removeEventListener('abort', onAbort);
      this.options.onRecord?.({
        path: window.path,
        template: model.template.label,
        promptTokens: prompt.ids.length,
        generatedTokens,
        reusedPromptTokens: (summary ?? model.backend.lastSummary?.())?.reusedPromptTokens,
        latencyMs: this.now() - modelStart,
        speculative,
        outcome,
        costs: this.options.costs?.({ promptTokens: prompt.ids.length, generatedTokens }) ?? [],
      });
      if (!speculative) this.options.onRequestEnd?.({ result, error: failure, cancelled: outcome === 'cancelled' });
    }
  }
}
