/**
 * The typed RPC between the extension host (TokenizerWorkerClient, client.ts) and the tokenizer
 * worker thread (src/tokenizer-worker). Every tokenizer Tokenscope uses outside the model process
 * lives in that one thread: the Token lens' eight tokenizers and the local model's own, which the
 * completion prompts are built with. Parsing a tokenizer.json blocks its thread for up to a second
 * and encoding a file for milliseconds; here neither touches the editor.
 *
 * Documents are mirrored into the worker (open with the whole text, then each edit as a change
 * list), so hovers, counts and boundaries send an offset or a range, never the text again. Every
 * document request names the version it was made for; the worker refuses a request for a version
 * it does not hold (`stale`), and the client then resends the document.
 */
import type { FimFamily } from '../completions/fimTemplates';
import type { PromptIds, PromptRequest } from '../completions/promptBuilder';

/** A tokenizer: one of the registry's built-in ids, or the tokenizer.json of a model folder. */
export type TokenizerSpec = { readonly builtin: string } | { readonly folder: string; readonly label: string };

/** The one name of a tokenizer inside the worker and in replies (`qwen2.5`, `folder:/path/to/model`). */
export function tokenizerKey(spec: TokenizerSpec): string {
  return 'builtin' in spec ? spec.builtin : `folder:${spec.folder}`;
}

export interface TokenizerDescription {
  readonly key: string;
  readonly label: string;
  readonly estimate: boolean;
  readonly vocabSize: number;
  /** Milliseconds the worker spent reading and parsing it. */
  readonly loadMs: number;
}

/** A half-open UTF-16 range of a mirrored document. */
export interface TextRange {
  readonly start: number;
  readonly end: number;
}

/** One change of an edit, relative to the text before the edit (as VS Code reports it). */
export interface TextChange {
  readonly offset: number;
  readonly length: number;
  readonly text: string;
}

/** Tokens overlapping a range: token k spans [starts[k], ends[k]) and is the (firstIndex + k)-th of the document. */
export interface TokenRun {
  readonly ids: Int32Array;
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  readonly firstIndex: number;
  /** Tokens in the whole document. */
  readonly total: number;
}

/** The token under the mouse, as the hover shows it. */
export interface HoveredToken {
  readonly id: number;
  readonly start: number;
  readonly end: number;
  /** Visible form (whitespace marked, partial bytes escaped). */
  readonly text: string;
  readonly byteLength: number;
  readonly partial: boolean;
}

/** A tokenizer's counts for the requested ranges (in request order), or why it has none. */
export type CountsOf =
  | { readonly state: 'ready'; readonly counts: readonly number[] }
  /** Still loading after the request's wait: ask again later. */
  | { readonly state: 'loading' }
  | { readonly state: 'failed'; readonly error: string };

/** Ranges to count: `document` is the whole mirrored document. */
export type CountTarget = TextRange | 'document';

/** One tokenizer's row of Compare Tokenizers. */
export type CompareRow =
  | { readonly key: string; readonly state: 'ready'; readonly count: number; readonly spans: readonly { readonly id: number; readonly start: number; readonly end: number; readonly byteLength: number }[] }
  | { readonly key: string; readonly state: 'failed'; readonly error: string };

/** Requests with replies: method → [params, result]. */
export interface TokenizerWorkerMethods {
  /** Loads (or returns) a tokenizer. Rejects with the reason it cannot be loaded. */
  load: [{ readonly tokenizer: TokenizerSpec }, TokenizerDescription];
  /** The tokens of a mirrored document overlapping `range`, in the tokenizer the document is tracked with. */
  tokens: [{ readonly uri: string; readonly version: number; readonly tokenizer: TokenizerSpec; readonly range: TextRange }, TokenRun];
  /**
   * The token at `offset` in `tokenizer`, and counts of `targets` in each of `countIn`, waiting up to
   * `waitMs` for tokenizers still loading. One round trip for the whole hover.
   */
  hover: [
    { readonly uri: string; readonly version: number; readonly offset: number; readonly tokenizer: TokenizerSpec; readonly countIn: readonly TokenizerSpec[]; readonly targets: readonly CountTarget[]; readonly waitMs: number },
    { readonly token?: HoveredToken; readonly counts: Readonly<Record<string, CountsOf>> },
  ];
  /** Counts of `targets` of a mirrored document in each tokenizer (status bar). */
  count: [{ readonly uri: string; readonly version: number; readonly countIn: readonly TokenizerSpec[]; readonly targets: readonly CountTarget[]; readonly waitMs: number }, Readonly<Record<string, CountsOf>>];
  /** Compare Tokenizers: each tokenizer's count of `text` and the spans of its first `shownChars` characters. */
  compare: [{ readonly text: string; readonly shownChars: number; readonly tokenizers: readonly TokenizerSpec[] }, readonly CompareRow[]];
  /** Builds a completion prompt with a model folder's tokenizer (the same instance the lens uses as `model`). */
  buildPrompt: [{ readonly folder: string; readonly family: FimFamily; readonly supportsRepoContext: boolean; readonly request: PromptRequest }, PromptIds];
}

export type TokenizerWorkerMethod = keyof TokenizerWorkerMethods;
export type ParamsOf<M extends TokenizerWorkerMethod> = TokenizerWorkerMethods[M][0];
export type ResultOf<M extends TokenizerWorkerMethod> = TokenizerWorkerMethods[M][1];

export type HostToWorker =
  | { readonly [M in TokenizerWorkerMethod]: { readonly type: 'request'; readonly id: number; readonly method: M; readonly params: ParamsOf<M> } }[TokenizerWorkerMethod]
  /**
   * Mirrors a document (replacing any older copy). `tokenizer`: keep its tokens current edit by edit
   * in that tokenizer (boundaries, the hover's token, the chosen tokenizer's free count); absent for
   * files too large to track, which are only counted.
   */
  | { readonly type: 'open'; readonly uri: string; readonly version: number; readonly text: string; readonly tokenizer?: TokenizerSpec }
  /** An edit of a mirrored document; `length` is the text's length after it (a mismatch drops the copy). */
  | { readonly type: 'edit'; readonly uri: string; readonly version: number; readonly changes: readonly TextChange[]; readonly length: number }
  | { readonly type: 'close'; readonly uri: string }
  /** Loads these in the background, one after another, yielding to requests between them. */
  | { readonly type: 'preload'; readonly tokenizers: readonly TokenizerSpec[] };

export type WorkerToHost =
  | { readonly type: 'result'; readonly id: number; readonly value: unknown }
  /** `stale`: the worker does not hold that version of the document (resend it). */
  | { readonly type: 'error'; readonly id: number; readonly message: string; readonly code?: 'stale' }
  /** A tokenizer finished loading (or failed), whoever asked for it: views can fill in. */
  | { readonly type: 'loaded'; readonly key: string; readonly description?: TokenizerDescription; readonly error?: string }
  | { readonly type: 'log'; readonly level: 'debug' | 'info' | 'warn' | 'error'; readonly message: string };

/** What the worker is started with (worker_threads workerData). */
export interface TokenizerWorkerData {
  /** The extension (or repository) root: where the registry finds the built-in tokenizers' files. */
  readonly rootDir: string;
}
