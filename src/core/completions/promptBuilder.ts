import type { ModelTokenizer, Tokenizer } from '../tokenizers/types';
import type { CursorPosition, DocumentLines } from './document';
import { inertText, renderInertPrompt, renderPrompt, tokenSpellings, type FimTemplate, type PromptPart, type RepoFile } from './fimTemplates';
import { hashString } from './hash';
import { defaultPromptBudget } from './defaults';
import { LruCache } from './lruCache';

export interface PromptBudget {
  /** Lines of the file before the cursor considered (llama.vscode: 256). */
  readonly linesBefore: number;
  /** Lines after the cursor considered (llama.vscode: 64). */
  readonly linesAfter: number;
  /** Most tokens of the local window (prefix + suffix), capped by the model context minus the generation. */
  readonly windowTokens: number;
  /** Share of windowTokens given to the prefix; the suffix gets the rest (unused share flows to the other side). */
  readonly prefixShare: number;
  /** Most tokens of repository context from other files (0 disables it). */
  readonly extraContextTokens: number;
}

export { defaultPromptBudget };

/**
 * Prefix windows start on a multiple of this many lines, so typing on the next lines keeps the same
 * prompt start and the model process can reuse its KV cache of the whole prefix.
 */
export const prefixStartAlignment = 16;

/** The text around the cursor, cut to the configured line window. Cheap: no tokenization. */
export interface LocalWindow {
  /** File path (for repository context and logs). */
  readonly path: string;
  /** Text from the window's first line to the cursor. */
  readonly prefix: string;
  /** Text from the cursor to the window's last line. */
  readonly suffix: string;
  /** The cursor line's text before / after the cursor. */
  readonly linePrefix: string;
  readonly lineSuffix: string;
  /** Full lines after the cursor line inside the window (for post-processing). */
  readonly nextLines: readonly string[];
  /** First line of the prefix window (0-based). */
  readonly startLine: number;
  readonly cursor: CursorPosition;
  /** Workspace name for repository context. */
  readonly repoName?: string;
}

export function extractWindow(document: DocumentLines, cursor: CursorPosition, budget: Pick<PromptBudget, 'linesBefore' | 'linesAfter'>, path = 'untitled', repoName?: string): LocalWindow {
  const line = document.lineText(cursor.line);
  const linePrefix = line.slice(0, cursor.character);
  const lineSuffix = line.slice(cursor.character);
  const startLine = Math.max(0, alignUp(cursor.line - budget.linesBefore, prefixStartAlignment));
  const before: string[] = [];
  for (let index = startLine; index < cursor.line; index++) before.push(document.lineText(index));
  const endLine = Math.min(document.lineCount - 1, cursor.line + budget.linesAfter);
  const nextLines: string[] = [];
  for (let index = cursor.line + 1; index <= endLine; index++) nextLines.push(document.lineText(index));
  const prefix = before.length > 0 ? `${before.join('\n')}\n${linePrefix}` : linePrefix;
  const suffix = nextLines.length > 0 ? `${lineSuffix}\n${nextLines.join('\n')}` : lineSuffix;
  return { path, prefix, suffix, linePrefix, lineSuffix, nextLines, startLine, cursor, repoName };
}

function alignUp(value: number, step: number): number {
  return Math.ceil(value / step) * step;
}

/** Cache key of a window: the same text before and after the cursor gives the same suggestion. */
export function windowKey(prefix: string, suffix: string): string {
  return `${hashString(prefix).toString(36)}:${prefix.length}:${hashString(suffix, 7).toString(36)}:${suffix.length}`;
}

/**
 * Counts tokens per line with a cache: as the user types only the cursor line changes, so budget
 * splitting costs one line's tokenization per keystroke instead of the whole window's.
 */
export class LineTokenCounter {
  private readonly cache = new LruCache<string, number>(8192);

  constructor(private readonly tokenizer: Pick<Tokenizer, 'count'>) {}

  /** Tokens of the line plus its line break (approximate: BPE may merge across lines; the prompt is re-checked after encoding). */
  count(line: string): number {
    const cached = this.cache.get(line);
    if (cached !== undefined) return cached;
    const tokens = this.tokenizer.count(`${line}\n`);
    this.cache.set(line, tokens);
    return tokens;
  }
}

export interface BuiltPrompt {
  readonly ids: number[];
  readonly parts: PromptPart[];
  readonly template: FimTemplate;
  /** Vocabulary ids that end generation (template stop tokens plus the model's eos ids). */
  readonly stopTokenIds: number[];
  /** The stop tokens as strings, for backends that see text only. */
  readonly stopStrings: string[];
  /**
   * The same prompt as text for servers that cannot take token ids: control tokens spelled out,
   * control-token spellings inside document text made inert (fimTemplates.ts inertText).
   */
  readonly text: string;
  /** Prefix and suffix, made inert, for servers that build the FIM prompt themselves (`suffix`). */
  readonly fim: { readonly prefix: string; readonly suffix: string };
  /** Prefix and suffix text actually in the prompt (after budget cuts). */
  readonly prefixText: string;
  readonly suffixText: string;
  readonly prefixTokens: number;
  readonly suffixTokens: number;
  readonly extraTokens: number;
  readonly extraChunks: number;
}

export interface BuildPromptOptions {
  readonly tokenizer: ModelTokenizer;
  readonly template: FimTemplate;
  readonly budget: PromptBudget;
  /** Model context length (max_position_embeddings); the prompt plus maxTokens must fit. */
  readonly contextLength: number;
  readonly maxTokens: number;
  readonly counter: LineTokenCounter;
  readonly extraChunks?: readonly RepoFile[];
  readonly repoName?: string;
  /** Extra stop ids from generation_config.json (eos_token_id). */
  readonly eosTokenIds?: readonly number[];
  /** Most suffix tokens (set by the engine from the model's measured prefill speed). */
  readonly maxSuffixTokens?: number;
}

/** Looks up a control token's id; a missing one is a broken model folder, said plainly. */
export function controlTokenId(tokenizer: ModelTokenizer, token: string): number | undefined {
  for (const spelling of tokenSpellings(token)) {
    const id = tokenizer.specialTokens.get(spelling) ?? tokenizer.tokenToId(spelling);
    if (id !== undefined) return id;
  }
  return undefined;
}

/**
 * Encodes prompt parts: control tokens by id from the vocabulary, text ALWAYS through `encode`, which
 * treats special-token strings as plain text. Document text can therefore never inject a control
 * token, whatever it contains.
 */
export function encodeParts(tokenizer: ModelTokenizer, parts: readonly PromptPart[]): number[] {
  const ids: number[] = [];
  for (const part of parts) {
    if (part.kind === 'control') {
      const id = controlTokenId(tokenizer, part.token);
      if (id === undefined) throw new Error(`The model's vocabulary has no ${part.token} token, which its fill-in-the-middle format needs. Check that tokenizer.json belongs to this model.`);
      ids.push(id);
    } else if (part.text.length > 0) {
      for (const id of tokenizer.encode(part.text)) ids.push(id);
    }
  }
  return ids;
}

/** Tokens of a template's control tokens, reserved before splitting the budget. */
const templateOverheadTokens = 16;

/**
 * Builds the FIM prompt for a window: splits the token budget between prefix and suffix (unused
 * share flows to the other side), cuts the FAR ends at line boundaries (the prefix's start on an
 * aligned line, the suffix's end), and adds repository context only if the family supports it and
 * room is left in the model's context.
 */
export function buildPrompt(window: LocalWindow, options: BuildPromptOptions): BuiltPrompt {
  const { tokenizer, template, budget, counter } = options;
  const room = options.contextLength - options.maxTokens - templateOverheadTokens;
  if (room < 16) throw new Error(`The model's context (${options.contextLength} tokens) leaves no room for a prompt after ${options.maxTokens} generated tokens; lower tokenscope.completions.maxTokens.`);
  const windowTokens = Math.min(budget.windowTokens, room);

  // Lines of the prefix (the cursor line's part last) and suffix (cursor line's rest first).
  const prefixLines = window.prefix.split('\n');
  const suffixLines = window.suffix.split('\n');
  const prefixCounts = prefixLines.map((line) => counter.count(line));
  const suffixCounts = suffixLines.map((line) => counter.count(line));
  const prefixNeed = sum(prefixCounts);
  const suffixNeed = sum(suffixCounts);
  // The suffix is recomputed on every request (it follows the cursor), the prefix mostly reused:
  // a slow model caps the suffix (maxSuffixTokens) and the prefix gets the rest.
  const suffixCap = template.usesSuffix === false ? 0 : (options.maxSuffixTokens ?? Number.POSITIVE_INFINITY);
  let suffixBudget = Math.min(windowTokens - Math.floor(windowTokens * budget.prefixShare), suffixCap);
  const prefixBudget = windowTokens - Math.min(suffixNeed, suffixBudget);
  if (prefixNeed < prefixBudget) suffixBudget = Math.min(windowTokens - prefixNeed, suffixCap);

  const prefixText = cutPrefix(prefixLines, prefixCounts, prefixBudget, window.startLine);
  const suffixText = cutSuffix(suffixLines, suffixCounts, suffixBudget);

  let prefixIds = tokenizer.encode(prefixText);
  let suffixIds = suffixText.length > 0 ? tokenizer.encode(suffixText) : [];
  // Per-line counts approximate the joined text's; enforce the hard limit on the real ids.
  if (prefixIds.length + suffixIds.length > windowTokens) {
    const over = prefixIds.length + suffixIds.length - windowTokens;
    const fromSuffix = Math.min(over, Math.max(0, suffixIds.length - 1));
    suffixIds = suffixIds.slice(0, suffixIds.length - fromSuffix);
    prefixIds = prefixIds.slice(over - fromSuffix);
  }

  // Repository context from other files, newest chunks first until the budget is spent.
  const extraRoom = Math.min(budget.extraContextTokens, room - prefixIds.length - suffixIds.length);
  const repoFiles: RepoFile[] = [];
  let extraTokens = 0;
  if (template.supportsRepoContext && extraRoom > 32 && options.extraChunks) {
    for (let index = options.extraChunks.length - 1; index >= 0; index--) {
      const chunk = options.extraChunks[index];
      const tokens = tokenizer.count(chunk.content) + tokenizer.count(chunk.path) + 2;
      if (extraTokens + tokens > extraRoom) continue;
      extraTokens += tokens;
      repoFiles.unshift({ path: chunk.path, content: chunk.content });
    }
  }

  const parts = template.build({ prefix: prefixText, suffix: suffixText, path: window.path, repoName: options.repoName, repoFiles });
  // Control tokens by id, text plainly; the prefix and suffix parts reuse the ids computed above.
  const ids: number[] = [];
  for (const part of parts) {
    // Loops, not push(...ids): a long context's ids would overflow the call stack.
    const partIds = part.kind === 'text' && part.role === 'prefix' ? prefixIds : part.kind === 'text' && part.role === 'suffix' ? suffixIds : encodeParts(tokenizer, [part]);
    for (const id of partIds) ids.push(id);
  }

  // The documented stop tokens, and the template's own control tokens: a generated <|fim_prefix|> or
  // <|file_sep|> can only mean the model has left the hole it was asked to fill.
  const stopStrings = [...new Set([...template.stopTokens, ...template.controlTokens])].filter((token) => controlTokenId(tokenizer, token) !== undefined);
  const stopTokenIds = [...new Set([...stopStrings.map((token) => controlTokenId(tokenizer, token) as number), ...(options.eosTokenIds ?? [])])];
  const specials = [...tokenizer.specialTokens.keys()];
  return {
    ids,
    parts,
    template,
    stopTokenIds,
    stopStrings,
    text: renderInertPrompt(parts, specials),
    fim: { prefix: inertText(prefixText, specials), suffix: inertText(suffixText, specials) },
    prefixText,
    suffixText,
    prefixTokens: prefixIds.length,
    suffixTokens: suffixIds.length,
    extraTokens,
    extraChunks: repoFiles.length,
  };
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}

/**
 * Keeps the prefix's last lines within budget. Lines are dropped from the start in blocks that keep
 * the first kept line aligned (see prefixStartAlignment), so the prompt start moves rarely; where a
 * block of long lines overshoots, lines are given back one by one so the budget is still used.
 */
function cutPrefix(lines: readonly string[], counts: readonly number[], budget: number, startLine: number): string {
  let total = sum(counts);
  let first = 0;
  while (total > budget && first < lines.length - 1) {
    // Drop lines up to the next aligned document line.
    const documentLine = startLine + first;
    const nextAligned = Math.max(documentLine + 1, alignUp(documentLine + 1, prefixStartAlignment));
    const stop = Math.min(lines.length - 1, first + (nextAligned - documentLine));
    for (; first < stop; first++) total -= counts[first];
  }
  // Long lines can make a whole aligned block too big: when alignment wasted over half the budget,
  // give lines back one by one (the prompt start then moves more often, but the model sees context).
  if (total < budget / 2) while (first > 0 && total + counts[first - 1] <= budget) total += counts[--first];
  const kept = lines.slice(first).join('\n');
  if (total <= budget) return kept;
  // Only the cursor line remains and it alone is over budget (e.g. a minified line): keep its end.
  return kept.slice(Math.max(0, kept.length - budget * 3));
}

/** Keeps the suffix's first lines within budget (the far end is the last line). */
function cutSuffix(lines: readonly string[], counts: readonly number[], budget: number): string {
  let total = 0;
  let end = 0;
  while (end < lines.length && total + counts[end] <= budget) total += counts[end++];
  if (end === 0) return lines[0].slice(0, Math.max(0, budget * 3));
  return lines.slice(0, end).join('\n');
}

/** For logs and the CLI: the prompt as the model sees it, control tokens spelled out. */
export function describePrompt(prompt: BuiltPrompt): string {
  return renderPrompt(prompt.parts);
}

/** Everything a prompt build needs besides the tokenizer and template; plain data (crosses to a worker). */
export interface PromptRequest {
  readonly window: LocalWindow;
  readonly budget: PromptBudget;
  readonly contextLength: number;
  readonly maxTokens: number;
  readonly extraChunks?: readonly RepoFile[];
  readonly eosTokenIds?: readonly number[];
  readonly maxSuffixTokens?: number;
}

/** A built prompt as the engine needs it; plain data. */
export type PromptIds = Pick<BuiltPrompt, 'ids' | 'stopTokenIds' | 'stopStrings' | 'text' | 'fim' | 'prefixTokens' | 'suffixTokens' | 'extraTokens' | 'extraChunks'>;

/**
 * Builds prompts for one model. Local: in this thread (CLI, benchmark, tests). The extension builds
 * them in the tokenizer worker thread (src/core/tokenizerWorker/client.ts), so loading a large
 * tokenizer and encoding never block the extension host.
 */
export interface PromptBuilder {
  build(request: PromptRequest): PromptIds | Promise<PromptIds>;
  dispose?(): void;
}

export class LocalPromptBuilder implements PromptBuilder {
  private readonly counter: LineTokenCounter;

  constructor(private readonly tokenizer: ModelTokenizer, private readonly template: FimTemplate) {
    this.counter = new LineTokenCounter(tokenizer);
  }

  build(request: PromptRequest): PromptIds {
    const prompt = buildPrompt(request.window, {
      tokenizer: this.tokenizer,
      template: this.template,
      budget: request.budget,
      contextLength: request.contextLength,
      maxTokens: request.maxTokens,
      counter: this.counter,
      extraChunks: request.extraChunks,
      repoName: request.window.repoName,
      eosTokenIds: request.eosTokenIds,
      maxSuffixTokens: request.maxSuffixTokens,
    });
    const { ids, stopTokenIds, stopStrings, text, fim, prefixTokens, suffixTokens, extraTokens, extraChunks } = prompt;
    return { ids, stopTokenIds, stopStrings, text, fim, prefixTokens, suffixTokens, extraTokens, extraChunks };
  }
}
