/**
 * Suggestions already computed, by model and window: an exact hit, or "typing along" (the user
 * typed the first characters of a suggestion shown for a shorter prefix, so the rest still holds).
 */
import { LruCache } from './lruCache';
import { windowKey, type LocalWindow } from './promptBuilder';
import type { CompletionModel, CompletionResult } from './types';

export interface CacheEntry {
  /** What to insert (empty: the model had nothing to suggest here). */
  readonly text: string;
  readonly result: CompletionResult;
}

/** How far back typing along looks: at most this many characters typed into a suggestion. */
const maxTypedAlong = 64;

export class SuggestionCache {
  private entries: LruCache<string, CacheEntry>;

  constructor(capacity: number) {
    this.entries = new LruCache(capacity);
  }

  /** The key of a window's suggestion for a model. */
  static keyOf(model: Pick<CompletionModel, 'id'>, window: Pick<LocalWindow, 'prefix' | 'suffix'>): string {
    return `${model.id}|${windowKey(window.prefix, window.suffix)}`;
  }

  /** An exact hit, refreshed as recently used. */
  get(key: string): CacheEntry | undefined {
    return this.entries.get(key);
  }

  /** Reads without refreshing recency. */
  peek(key: string): CacheEntry | undefined {
    return this.entries.peek(key);
  }

  set(key: string, entry: CacheEntry): void {
    this.entries.set(key, entry);
  }

  /** Forgets every suggestion; a new capacity, when given, applies from now on. */
  clear(capacity?: number): void {
    if (capacity === undefined) this.entries.clear();
    else this.entries = new LruCache(capacity);
  }

  /** The rest of a suggestion made for a shorter prefix (same suffix) that the user has typed into. */
  typingAlong(model: Pick<CompletionModel, 'id'>, window: LocalWindow): CacheEntry | undefined {
    const limit = Math.min(maxTypedAlong, window.linePrefix.length);
    for (let typed = 1; typed <= limit; typed++) {
      const earlier = this.entries.peek(SuggestionCache.keyOf(model, { prefix: window.prefix.slice(0, window.prefix.length - typed), suffix: window.suffix }));
      if (!earlier) continue;
      const typedText = window.prefix.slice(window.prefix.length - typed);
      if (earlier.text.length > typed && earlier.text.startsWith(typedText) && earlier.text.slice(typed).trim().length > 0) {
        return { text: earlier.text.slice(typed), result: earlier.result };
      }
    }
    return undefined;
  }
}
