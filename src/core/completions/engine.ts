/**
 * The completion core shared by the VS Code provider, the CLI and the benchmark. It runs the
 * pipeline's stages in order, each in its own module as Continue's core/autocomplete does:
 * prefiltering (gates.ts), the window around the cursor (promptBuilder.ts), the cache and typing
 * along (suggestionCache.ts), joining a speculation already running (requestSlot.ts), the debounce
 * (debounce.ts), generation with templating and post-processing (generation.ts), and the
 * confidence gate (gates.ts). The engine itself holds only the order and the counts (engineStats.ts).
 */
import type { CostEstimator } from '../pricing/cost';
import { Debouncer } from './debounce';
import { defaultEngineSettings } from './defaults';
import { emptyEngineStats, noteSync, type EngineStats } from './engineStats';
import type { ExtraContextBuffer } from './extraContext';
import { generateSuggestion, PrefillRate, type GenerationContext } from './generation';
import { holdsBack, skipsPosition } from './gates';
import { extractWindow, type LocalWindow } from './promptBuilder';
import { RequestSlot } from './requestSlot';
import { SuggestionCache, type CacheEntry } from './suggestionCache';
import type { CompletionModel, CompletionRecord, CompletionRequest, CompletionResult, EngineSettings } from './types';

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

/**
 * Debounced, cancellable, cached, with typing-along and speculative pre-computation. Only one
 * model request runs at a time; a newer call aborts the older request in the model process.
 */
export class CompletionEngine {
  private settings: EngineSettings;
  private readonly cache: SuggestionCache;
  private readonly debouncer = new Debouncer();
  private readonly slot = new RequestSlot();
  private readonly prefill = new PrefillRate();
  /** Number of the newest complete() call; an older call that finds a newer number settles with undefined. */
  private callSeq = 0;
  private readonly now: () => number;
  readonly stats: EngineStats = emptyEngineStats();

  constructor(private readonly options: EngineOptions) {
    this.settings = { ...defaultEngineSettings, ...options.settings };
    this.cache = new SuggestionCache(this.settings.cacheSize);
    this.now = options.now ?? (() => performance.now());
  }

  updateSettings(settings: Partial<EngineSettings>): void {
    const previous = this.settings;
    this.settings = { ...this.settings, ...settings };
    const promptChanged = (['linesBefore', 'linesAfter', 'windowTokens', 'maxTokens'] as const).some((key) => previous[key] !== this.settings[key]);
    if (previous.cacheSize !== this.settings.cacheSize || promptChanged) this.cache.clear(this.settings.cacheSize);
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
    if (result && holdsBack(result, request.trigger, this.settings.minConfidence)) {
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
    this.debouncer.settle();
    if (signal?.aborted) return undefined;
    const supersededNow = () => {
      if (ticket === this.callSeq) return false;
      this.stats.superseded++;
      return true;
    };

    if (skipsPosition(request, this.settings)) {
      this.stats.skipped++;
      return undefined;
    }

    const model = await this.options.getModel();
    if (supersededNow() || signal?.aborted) return undefined;
    const syncStart = this.now();
    const window = extractWindow(request.document, request.position, this.settings, request.path, request.repoName);
    const key = SuggestionCache.keyOf(model, window);
    this.slot.abortStale(key);

    const cached = this.cache.get(key);
    const along = cached ? undefined : this.cache.typingAlong(model, window);
    noteSync(this.stats, syncStart, this.now());
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
    const settled = await this.debouncer.wait(request.trigger === 'explicit' ? 0 : this.settings.debounceMs, signal);
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
      const key = SuggestionCache.keyOf(model, window);
      if (this.cache.peek(key) || this.slot.running?.key === key) return undefined;
      return await this.request(model, window, key, { speculative: true, startedAt: this.now() });
    } catch {
      // A failed speculation is not the user's problem; the real request will report it.
      return undefined;
    }
  }

  /** Aborts whatever runs and settles every waiting call. */
  dispose(): void {
    this.debouncer.settle();
    this.slot.dispose();
  }

  /** Prompt tokens per second the model prefills, as measured (undefined before the first request). */
  get prefillTokensPerSecond(): number | undefined {
    return this.prefill.tokensPerSecond;
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
    const running = this.slot.running;
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

  private request(model: CompletionModel, window: LocalWindow, key: string, how: { speculative: boolean; signal?: AbortSignal; startedAt: number }): Promise<CompletionResult | undefined> {
    return this.slot.start(key, how.speculative, how.signal, (signal) => generateSuggestion(this.generationContext(), { model, window, key, signal, speculative: how.speculative, startedAt: how.startedAt }));
  }

  private generationContext(): GenerationContext {
    const { extraContext, costs, onRecord, onRequestStart, onRequestEnd } = this.options;
    return { settings: this.settings, extraContext, costs, now: this.now, stats: this.stats, prefill: this.prefill, remember: (key, entry) => this.cache.set(key, entry), onRecord, onRequestStart, onRequestEnd };
  }
}
