/**
 * The tokenizer worker's request handler (the thread's entry is main.ts): the registry's tokenizers
 * and model folders' tokenizers, each loaded once; mirrored documents with their tokens kept
 * current edit by edit; counts, hovers, Compare Tokenizers and completion prompts. Free of
 * worker_threads itself, so the unit tests drive it in-process.
 */
import { join } from 'node:path';
import { templateFor, type FimFamily } from '../core/completions/fimTemplates';
import { LocalPromptBuilder } from '../core/completions/promptBuilder';
import { displayToken, tokenBytesOf } from '../core/tokenizers/display';
import { DocumentTokens } from '../core/tokenizers/documentTokens';
import { loadTokenizerFromFolder } from '../core/tokenizers/huggingface';
import { TokenizerRegistry } from '../core/tokenizers/registry';
import type { ModelTokenizer, Tokenizer } from '../core/tokenizers/types';
import {
  tokenizerKey,
  type CompareRow,
  type CountsOf,
  type CountTarget,
  type HostToWorker,
  type ParamsOf,
  type ResultOf,
  type TextChange,
  type TokenizerDescription,
  type TokenizerSpec,
  type TokenizerWorkerMethod,
  type WorkerToHost,
} from '../core/tokenizerWorker/protocol';

/** Model folders' tokenizers kept at once (a model switch loads another; the oldest goes). */
const MAX_FOLDER_TOKENIZERS = 3;
/** Characters tokenized per slice while building a document's tokens, between which requests are served. */
const BUILD_SLICE_CHARS = 65_536;

class StaleDocumentError extends Error {}

interface LoadState {
  readonly promise: Promise<Tokenizer>;
  tokenizer?: Tokenizer;
  description?: TokenizerDescription;
  error?: string;
}

interface MirroredDocument {
  version: number;
  text: string;
  /** The tokenizer whose tokens are kept current (absent: the file is only counted). */
  readonly tracked?: TokenizerSpec;
  tokens?: DocumentTokens;
  /** The build of `tokens` under way, if any. */
  building?: Promise<DocumentTokens>;
  /** Whole-document counts at `version`, by tokenizer key. */
  readonly counts: Map<string, number>;
}

const nextTick = () => new Promise<void>((resolve) => setImmediate(resolve));
const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

export interface TokenizerWorkerServerOptions {
  readonly rootDir: string;
  readonly send: (message: WorkerToHost, transfer?: ArrayBuffer[]) => void;
}

export class TokenizerWorkerServer {
  private readonly registry: TokenizerRegistry;
  private readonly loads = new Map<string, LoadState>();
  /** Folder tokenizer keys, least recently used first. */
  private readonly folderOrder: string[] = [];
  private readonly documents = new Map<string, MirroredDocument>();
  private readonly promptBuilders = new Map<string, LocalPromptBuilder>();
  private loadQueue: Promise<void> = Promise.resolve();

  constructor(private readonly options: TokenizerWorkerServerOptions) {
    this.registry = new TokenizerRegistry({ rootDir: options.rootDir });
  }

  handle(message: HostToWorker): void {
    switch (message.type) {
      case 'open':
        this.documents.set(message.uri, { version: message.version, text: message.text, tracked: message.tokenizer, counts: new Map() });
        return;
      case 'edit':
        this.edit(message.uri, message.version, message.changes, message.length);
        return;
      case 'close':
        this.documents.delete(message.uri);
        return;
      case 'preload':
        // Queued in this order (see load()); each reports `loaded` when done.
        for (const spec of message.tokenizers) void this.load(spec).catch(() => undefined);
        return;
      case 'request':
        void this.answer(message.id, message.method, message.params);
        return;
    }
  }

  private async answer<M extends TokenizerWorkerMethod>(id: number, method: M, params: ParamsOf<M>): Promise<void> {
    try {
      const value = await this.run(method, params);
      const transfer = method === 'tokens' ? tokenBuffers(value as ResultOf<'tokens'>) : undefined;
      this.options.send({ type: 'result', id, value }, transfer);
    } catch (error) {
      this.options.send({ type: 'error', id, message: messageOf(error), ...(error instanceof StaleDocumentError ? { code: 'stale' as const } : {}) });
    }
  }

  private run<M extends TokenizerWorkerMethod>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>> {
    // Each branch returns the result type of its own method; TypeScript cannot narrow M from a switch.
    const handlers: { readonly [K in TokenizerWorkerMethod]: (params: ParamsOf<K>) => Promise<ResultOf<K>> } = {
      load: async ({ tokenizer }) => {
        await this.load(tokenizer, { retry: true });
        return this.loads.get(tokenizerKey(tokenizer))?.description as TokenizerDescription;
      },
      tokens: (p) => this.tokens(p),
      hover: (p) => this.hover(p),
      count: async (p) => {
        const document = this.document(p.uri, p.version);
        return this.countAll(document, p.uri, p.version, p.countIn, p.targets, p.waitMs);
      },
      compare: (p) => this.compare(p),
      buildPrompt: (p) => this.buildPrompt(p),
    };
    return (handlers[method] as (params: ParamsOf<M>) => Promise<ResultOf<M>>)(params);
  }

  // ---- tokenizers ------------------------------------------------------------------------------

  /**
   * Loads once per key; a failure is remembered (and reported) until a `load` request retries it.
   * Loads run one at a time, in the order asked for, with the requests that queued meanwhile served
   * between two (a parse holds this thread for up to a second): the first ones asked for are ready
   * first, instead of all of them being ready last.
   */
  private load(spec: TokenizerSpec, options: { retry?: boolean } = {}): Promise<Tokenizer> {
    const key = tokenizerKey(spec);
    const existing = this.loads.get(key);
    if (existing && !(options.retry && existing.error !== undefined)) {
      if (key.startsWith('folder:')) this.touchFolder(key);
      return existing.promise;
    }
    let loadMs = 0;
    // The built-in model's tokenizer is read as a model folder, so that with the default model the
    // lens's `mini`, its `model` and the completion prompts share one instance.
    const source =
      'builtin' in spec && spec.builtin === 'mini'
        ? this.load({ folder: this.miniFolder, label: 'Tokenscope mini' }).then((tokenizer) => {
            loadMs = this.loads.get(`folder:${this.miniFolder}`)?.description?.loadMs ?? 0;
            return tokenizer;
          })
        : this.enqueue(async () => {
            const started = performance.now();
            const tokenizer = 'folder' in spec ? await loadTokenizerFromFolder(spec.folder, { id: 'model', label: spec.label }) : await this.registry.get(spec.builtin);
            loadMs = Math.round(performance.now() - started);
            return tokenizer;
          });
    const state: LoadState = {
      promise: source.then(
        (tokenizer) => {
          state.tokenizer = tokenizer;
          state.description = { key, label: 'label' in spec ? spec.label : tokenizer.label, estimate: tokenizer.estimate, vocabSize: tokenizer.vocabSize, loadMs };
          this.options.send({ type: 'loaded', key, description: state.description });
          this.log('debug', `loaded tokenizer ${key} in ${loadMs} ms`);
          return tokenizer;
        },
        (error: unknown) => {
          state.error = messageOf(error);
          this.options.send({ type: 'loaded', key, error: state.error });
          throw error;
        },
      ),
    };
    // Waiters that give up (a hover's wait) must not leave an unhandled rejection behind.
    state.promise.catch(() => undefined);
    this.loads.set(key, state);
    if (key.startsWith('folder:')) this.touchFolder(key);
    return state.promise;
  }

  /** Runs tokenizer loads one after another, yielding to queued requests between two. */
  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.loadQueue.then(task);
    this.loadQueue = run.then(nextTick, nextTick);
    return run;
  }

  private get miniFolder(): string {
    return join(this.options.rootDir, 'models', 'tokenscope-mini');
  }

  private touchFolder(key: string): void {
    const at = this.folderOrder.indexOf(key);
    if (at !== -1) this.folderOrder.splice(at, 1);
    this.folderOrder.push(key);
    // The built-in model's tokenizer is tiny and backs `mini`: it is never evicted.
    const mini = `folder:${this.miniFolder}`;
    while (this.folderOrder.filter((candidate) => candidate !== mini).length > MAX_FOLDER_TOKENIZERS) {
      const [evicted] = this.folderOrder.splice(this.folderOrder.findIndex((candidate) => candidate !== mini), 1);
      this.loads.delete(evicted);
      for (const builderKey of [...this.promptBuilders.keys()]) if (builderKey.startsWith(`${evicted}\u0000`)) this.promptBuilders.delete(builderKey);
      for (const document of this.documents.values()) {
        if (document.tokens && document.tracked && tokenizerKey(document.tracked) === evicted) document.tokens = undefined;
        document.counts.delete(evicted);
      }
    }
  }

  /** The tokenizer if loaded; starts its load otherwise. */
  private peek(spec: TokenizerSpec): LoadState {
    void this.load(spec).catch(() => undefined);
    return this.loads.get(tokenizerKey(spec)) as LoadState;
  }

  /** Waits for the tokenizers to load, at most `ms` (each that is still loading then answers `loading`). */
  private async waitFor(specs: readonly TokenizerSpec[], ms: number): Promise<void> {
    const pending = specs.map((spec) => this.peek(spec)).filter((state) => !state.tokenizer && state.error === undefined);
    if (pending.length === 0 || ms <= 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled(pending.map((state) => state.promise)), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
    clearTimeout(timer);
  }

  // ---- documents ---------------------------------------------------------------------------------

  private document(uri: string, version: number): MirroredDocument {
    const document = this.documents.get(uri);
    if (!document || document.version !== version) throw new StaleDocumentError(`the worker holds ${document ? `version ${document.version}` : 'no copy'} of ${uri}, not version ${version}`);
    return document;
  }

  private edit(uri: string, version: number, changes: readonly TextChange[], length: number): void {
    const document = this.documents.get(uri);
    if (!document) return;
    // All changes of one edit refer to the text before it and do not overlap: apply them from the end.
    let text = document.text;
    let hullStart = Number.POSITIVE_INFINITY;
    let hullEnd = 0;
    for (const change of [...changes].sort((a, b) => b.offset - a.offset)) {
      text = text.slice(0, change.offset) + change.text + text.slice(change.offset + change.length);
      hullStart = Math.min(hullStart, change.offset);
      hullEnd = Math.max(hullEnd, change.offset + change.length);
    }
    if (text.length !== length) {
      // Out of step with the editor (should not happen): forget it, and the next request asks for a resend.
      this.log('warn', `dropped the copy of ${uri}: after an edit it has ${text.length} characters, the editor ${length}`);
      this.documents.delete(uri);
      return;
    }
    document.text = text;
    document.version = version;
    document.counts.clear();
    if (document.tokens && changes.length > 0) document.tokens.update(text, hullStart, hullEnd);
    // A build under way notices the new version and starts over.
  }

  /** The document's tokens in its tracked tokenizer, built in slices (requests are served between them). */
  private async tokensOf(document: MirroredDocument, uri: string, tokenizer: Tokenizer): Promise<DocumentTokens> {
    if (document.tokens && document.tokens.tokenizer === tokenizer) return document.tokens;
    document.building ??= (async () => {
      try {
        for (;;) {
          const version = document.version;
          const tokens = new DocumentTokens(tokenizer, document.text, { deferBuild: true });
          let current = true;
          for (const _ of tokens.buildSteps(BUILD_SLICE_CHARS)) {
            await nextTick();
            if (document.version !== version || this.documents.get(uri) !== document) {
              current = false;
              break;
            }
          }
          if (this.documents.get(uri) !== document) throw new StaleDocumentError(`${uri} was closed while its tokens were built`);
          if (current && document.version === version) {
            document.tokens = tokens;
            return tokens;
          }
        }
      } finally {
        document.building = undefined;
      }
    })();
    return document.building;
  }

  private async tokens(p: ParamsOf<'tokens'>): Promise<ResultOf<'tokens'>> {
    const document = this.document(p.uri, p.version);
    if (!document.tracked || tokenizerKey(document.tracked) !== tokenizerKey(p.tokenizer)) throw new StaleDocumentError(`${p.uri} is not tracked in ${tokenizerKey(p.tokenizer)}`);
    const tokenizer = await this.load(p.tokenizer);
    const tokens = await this.tokensOf(document, p.uri, tokenizer);
    if (document.version !== p.version) throw new StaleDocumentError(`${p.uri} changed to version ${document.version}`);
    const ids: number[] = [];
    const starts: number[] = [];
    const ends: number[] = [];
    let firstIndex = -1;
    tokens.forEachToken(p.range.start, p.range.end, (token) => {
      if (firstIndex < 0) firstIndex = token.index;
      ids.push(token.id);
      starts.push(token.start);
      ends.push(token.end);
    });
    return { ids: Int32Array.from(ids), starts: Int32Array.from(starts), ends: Int32Array.from(ends), firstIndex: Math.max(0, firstIndex), total: tokens.tokenCount };
  }

  /** Tokens of the whole document in `tokenizer`: free from the tracked tokens, else counted once per version. */
  private wholeCount(document: MirroredDocument, tokenizer: Tokenizer, key: string): number {
    if (document.tokens && document.tokens.tokenizer === tokenizer) return document.tokens.tokenCount;
    let count = document.counts.get(key);
    if (count === undefined) {
      count = tokenizer.count(document.text);
      document.counts.set(key, count);
    }
    return count;
  }

  private async countAll(document: MirroredDocument, uri: string, version: number, specs: readonly TokenizerSpec[], targets: readonly CountTarget[], waitMs: number): Promise<Record<string, CountsOf>> {
    await this.waitFor(specs, waitMs);
    // The tracked tokenizer's whole-document count comes free once its tokens are built.
    if (document.tracked && targets.includes('document')) {
      const tracked = this.loads.get(tokenizerKey(document.tracked))?.tokenizer;
      if (tracked && specs.some((spec) => tokenizerKey(spec) === tokenizerKey(document.tracked as TokenizerSpec))) await this.tokensOf(document, uri, tracked).catch(() => undefined);
    }
    if (document.version !== version || this.documents.get(uri) !== document) throw new StaleDocumentError(`${uri} changed while it was counted`);
    const result: Record<string, CountsOf> = {};
    for (const spec of specs) {
      const key = tokenizerKey(spec);
      const state = this.peek(spec);
      if (state.error !== undefined) result[key] = { state: 'failed', error: state.error };
      else if (!state.tokenizer) result[key] = { state: 'loading' };
      else {
        const tokenizer = state.tokenizer;
        result[key] = { state: 'ready', counts: targets.map((target) => (target === 'document' ? this.wholeCount(document, tokenizer, key) : tokenizer.count(document.text.slice(target.start, target.end)))) };
      }
    }
    return result;
  }

  private async hover(p: ParamsOf<'hover'>): Promise<ResultOf<'hover'>> {
    const document = this.document(p.uri, p.version);
    const counts = await this.countAll(document, p.uri, p.version, p.countIn, p.targets, p.waitMs);
    const main = this.peek(p.tokenizer).tokenizer;
    if (!main) return { counts };
    let token: { id: number; start: number; end: number } | undefined;
    if (document.tokens && document.tokens.tokenizer === main) {
      token = document.tokens.tokenAt(p.offset);
    } else {
      // Not tracked in this tokenizer (a large file): the line alone.
      const lineStart = document.text.lastIndexOf('\n', p.offset - 1) + 1;
      const newline = document.text.indexOf('\n', p.offset);
      const lineEnd = newline === -1 ? document.text.length : newline + 1;
      const span = main.encodeWithOffsets(document.text.slice(lineStart, lineEnd)).find((candidate) => lineStart + candidate.end > p.offset);
      if (span) token = { id: span.id, start: lineStart + span.start, end: lineStart + span.end };
    }
    if (!token) return { counts };
    const shown = displayToken(main, token.id);
    return { counts, token: { id: token.id, start: token.start, end: token.end, text: shown.text, byteLength: shown.byteLength, partial: shown.partial } };
  }

  private async compare(p: ParamsOf<'compare'>): Promise<ResultOf<'compare'>> {
    const shown = p.text.slice(0, p.shownChars);
    const rows: CompareRow[] = [];
    for (const spec of p.tokenizers) {
      const key = tokenizerKey(spec);
      try {
        const tokenizer = await this.load(spec, { retry: true });
        const spans = tokenizer.encodeWithOffsets(shown).map((span) => ({ id: span.id, start: span.start, end: span.end, byteLength: tokenBytesOf(tokenizer, span.id).length }));
        rows.push({ key, state: 'ready', count: tokenizer.count(p.text), spans });
      } catch (error) {
        rows.push({ key, state: 'failed', error: messageOf(error) });
      }
    }
    return rows;
  }

  private async buildPrompt(p: ParamsOf<'buildPrompt'>): Promise<ResultOf<'buildPrompt'>> {
    const key = tokenizerKey({ folder: p.folder, label: p.folder });
    const builderKey = `${key}\u0000${p.family}\u0000${p.supportsRepoContext}`;
    let builder = this.promptBuilders.get(builderKey);
    if (!builder) {
      const tokenizer = (await this.load({ folder: p.folder, label: p.folder }, { retry: true })) as ModelTokenizer;
      builder = new LocalPromptBuilder(tokenizer, templateFor(p.family as FimFamily, p.supportsRepoContext));
      this.promptBuilders.set(builderKey, builder);
    } else {
      this.touchFolder(key);
    }
    return builder.build(p.request);
  }

  private log(level: 'debug' | 'info' | 'warn' | 'error', message: string): void {
    this.options.send({ type: 'log', level, message: `Tokenizer worker: ${message}` });
  }
}

function tokenBuffers(run: ResultOf<'tokens'>): ArrayBuffer[] {
  return [run.ids.buffer, run.starts.buffer, run.ends.buffer] as ArrayBuffer[];
}
