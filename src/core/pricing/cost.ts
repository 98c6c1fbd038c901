/**
 * Tokenscope's one cost vocabulary: cost arithmetic (tokens → USD), what a request's tokens would
 * have cost on priced models (the completion engine's per-model lines, chat's reference-model
 * figure), money formatting that stays readable for tiny amounts, and the price table with the
 * user's additions and overrides from `tokenscope.cost.customModels`. Every feature (Token lens,
 * completions, chat, CLI) prices through this module. Pure: the chat webview imports it too.
 */
import { BUILTIN_TOKENIZERS, MODEL_TOKENIZER_ID } from '../tokenizers/descriptors';
import { PRICED_MODELS, type PricedModel } from './prices';

export interface CostEstimate {
  readonly model: PricedModel;
  readonly tokens: number;
  /** Sending the tokens as (uncached) input. */
  readonly inputUSD: number;
  /** Sending them as cached input; undefined where the provider has no cached price. */
  readonly cachedInputUSD?: number;
  /** Generating the same number of tokens as output. */
  readonly outputUSD: number;
}

/** USD for `tokens` at `perMillion` USD per million tokens. */
export function tokensToUSD(tokens: number, perMillion: number): number {
  return (tokens * perMillion) / 1_000_000;
}

/** The same `tokens` priced as input, cached input and output on one model (Token lens, `tokenscope cost`). */
export function estimateCost(model: PricedModel, tokens: number): CostEstimate {
  return {
    model,
    tokens,
    inputUSD: tokensToUSD(tokens, model.inputPerMTok),
    cachedInputUSD: model.cachedInputPerMTok === undefined ? undefined : tokensToUSD(tokens, model.cachedInputPerMTok),
    outputUSD: tokensToUSD(tokens, model.outputPerMTok),
  };
}

/** What one request used: prompt tokens (priced as input) and generated tokens (priced as output). */
export interface TokenUsage {
  readonly promptTokens: number;
  readonly generatedTokens: number;
}

/** A price in USD per million tokens: a PricedModel fits, or any `{ id, inputPerMTok, outputPerMTok }`. */
export type UsagePrice = Pick<PricedModel, 'id' | 'inputPerMTok' | 'outputPerMTok'>;

/** What a usage would have cost on one priced model. */
export interface CostLine {
  /** Priced model id (e.g. `gpt-4o`). */
  readonly model: string;
  /** USD the same number of tokens would have cost there. */
  readonly usd: number;
}

/**
 * Prices a usage on a fixed set of models, one line each in their order. The completion engine and
 * chat take one injected, so tests and the CLI can pass any table.
 */
export type CostEstimator = (usage: TokenUsage) => readonly CostLine[];

/**
 * A usage priced on one model: prompt tokens as uncached input, generated tokens as output. Counts
 * are the local model's: an API model's tokenizer would count the same text slightly differently,
 * so this answers "the same tokens", as labelled.
 */
export function usageCost(usage: TokenUsage, price: UsagePrice): CostLine {
  return { model: price.id, usd: (usage.promptTokens * price.inputPerMTok + usage.generatedTokens * price.outputPerMTok) / 1_000_000 };
}

/** An estimator over a fixed table (every model of it, in order). */
export function costEstimator(prices: readonly UsagePrice[]): CostEstimator {
  return (usage) => prices.map((price) => usageCost(usage, price));
}

/**
 * What chat shows under an answer and keeps in its history: the exchange priced on the reference
 * model (`tokenscope.cost.referenceModel`). The field names are stored in saved conversations.
 */
export interface ReferenceCost {
  readonly referenceModel: string;
  readonly usd: number;
}

/** The estimator for the reference model alone; undefined when the table has no such model (no price known). */
export function referenceCostEstimator(table: PriceTable, referenceModel: string): CostEstimator | undefined {
  const price = table.models.find((model) => model.id === referenceModel);
  return price ? costEstimator([price]) : undefined;
}

/**
 * `$0`, `$0.000042`, `$0.0123`, `$1.23`, `$12,345.67`: two significant digits below a cent, so a
 * single line of code never shows as `$0.00`.
 */
export function formatUSD(amount: number): string {
  if (!Number.isFinite(amount)) return '—';
  if (amount === 0) return '$0';
  const sign = amount < 0 ? '-' : '';
  const value = Math.abs(amount);
  if (value >= 1) return `${sign}$${value.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  if (value >= 0.01) return `${sign}$${trimZeros(value.toFixed(4))}`;
  if (value < 1e-10) return `${sign}<$0.0000000001`;
  const decimals = Math.min(10, 1 - Math.floor(Math.log10(value)));
  return `${sign}$${trimZeros(value.toFixed(decimals))}`;
}

/**
 * The short form for a line of figures (chat's stats under an answer): `$0`, `<$0.0001`,
 * `$0.0075`, `$0.500`, `$12.34`, at most four decimals.
 */
export function formatUSDBrief(amount: number): string {
  if (amount === 0) return '$0';
  if (amount < 0.0001) return '<$0.0001';
  if (amount < 0.01) return `$${amount.toFixed(4)}`;
  return `$${amount.toFixed(amount < 1 ? 3 : 2)}`;
}

/**
 * A figure beside code or a prompt: `$0.0010` (four decimals, as chat's figures) down to a hundredth
 * of a cent, and two significant digits below that (`$0.000043`), so a small block is never `<$0.0001`.
 */
export function formatUSDFigure(amount: number): string {
  return amount > 0 && amount < 0.0001 ? formatUSD(amount) : formatUSDBrief(amount);
}

function trimZeros(text: string): string {
  return text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
}

/** The fraction of a context window that `tokens` fill (may exceed 1). */
export function contextShare(tokens: number, contextWindow: number): number {
  return contextWindow > 0 ? tokens / contextWindow : 0;
}

export interface PriceTable {
  readonly models: readonly PricedModel[];
  /** One line per rejected or partly rejected settings entry, saying what to fix. */
  readonly problems: readonly string[];
}

const SETTING = 'tokenscope.cost.customModels';

let lastTable: { readonly key: string; readonly table: PriceTable } | undefined;

/**
 * The price table for a value of `tokenscope.cost.customModels`, rebuilt only when the value
 * changes (chat and completions ask for it per request).
 */
export function priceTableFor(customModels: unknown): PriceTable {
  const key = JSON.stringify(customModels) ?? '';
  if (lastTable?.key !== key) lastTable = { key, table: buildPriceTable(customModels) };
  return lastTable.table;
}
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * The built-in table with the user's entries applied: an entry whose id matches a built-in model
 * overrides the fields it gives (so `{ "id": "gpt-4o", "inputPerMTok": 2, "outputPerMTok": 8 }`
 * updates just the prices); a new id adds a model. Bad entries are skipped with a message.
 */
export function buildPriceTable(customModels: unknown, knownTokenizers: readonly string[] = [MODEL_TOKENIZER_ID, ...BUILTIN_TOKENIZERS.map((entry) => entry.id)]): PriceTable {
  const models = new Map<string, PricedModel>(PRICED_MODELS.map((model) => [model.id, model]));
  const problems: string[] = [];
  if (customModels === undefined || customModels === null) return { models: [...models.values()], problems };
  if (!Array.isArray(customModels)) {
    return { models: [...models.values()], problems: [`${SETTING} must be a list of models ([{ "id", "inputPerMTok", "outputPerMTok", ... }]), got ${describe(customModels)}`] };
  }
  customModels.forEach((entry: unknown, index) => {
    const where = `${SETTING}[${index}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      problems.push(`${where} must be an object like { "id": "my-model", "inputPerMTok": 1, "outputPerMTok": 2 }, got ${describe(entry)}`);
      return;
    }
    const raw = entry as Record<string, unknown>;
    if (typeof raw.id !== 'string' || raw.id.trim() === '') {
      problems.push(`${where}: "id" must be a non-empty string naming the model (e.g. "gpt-4o" to override it, or a new id), got ${describe(raw.id)}`);
      return;
    }
    const id = raw.id.trim();
    const label = `${where} ("${id}")`;
    const base = models.get(id);
    const entryProblems: string[] = [];
    const price = (field: 'inputPerMTok' | 'cachedInputPerMTok' | 'outputPerMTok', what: string, required: boolean): number | undefined => {
      const value = raw[field];
      if (value === undefined) {
        if (required) entryProblems.push(`${label}: "${field}" is required (USD per million ${what} tokens, e.g. 2.5)`);
        return undefined;
      }
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
        entryProblems.push(`${label}: "${field}" must be a number >= 0 (USD per million ${what} tokens), got ${describe(value)}`);
        return undefined;
      }
      return value;
    };
    const input = price('inputPerMTok', 'input', base === undefined);
    const cached = price('cachedInputPerMTok', 'cached input', false);
    const output = price('outputPerMTok', 'output', base === undefined);
    let tokenizer: string | undefined;
    if (raw.tokenizer !== undefined) {
      if (typeof raw.tokenizer !== 'string' || !knownTokenizers.includes(raw.tokenizer)) {
        entryProblems.push(`${label}: "tokenizer" must be one of ${knownTokenizers.join(', ')}, got ${describe(raw.tokenizer)}`);
      } else {
        tokenizer = raw.tokenizer;
      }
    }
    let contextWindow: number | undefined;
    if (raw.contextWindow !== undefined) {
      if (typeof raw.contextWindow !== 'number' || !Number.isInteger(raw.contextWindow) || raw.contextWindow < 1) {
        entryProblems.push(`${label}: "contextWindow" must be a whole number of tokens >= 1, got ${describe(raw.contextWindow)}`);
      } else {
        contextWindow = raw.contextWindow;
      }
    }
    let asOf: string | undefined;
    if (raw.asOf !== undefined) {
      if (typeof raw.asOf !== 'string' || !ISO_DATE.test(raw.asOf) || Number.isNaN(Date.parse(raw.asOf))) {
        entryProblems.push(`${label}: "asOf" must be a date like "2025-06-30", got ${describe(raw.asOf)}`);
      } else {
        asOf = raw.asOf;
      }
    }
    for (const field of ['label', 'source'] as const) {
      if (raw[field] !== undefined && typeof raw[field] !== 'string') entryProblems.push(`${label}: "${field}" must be a string, got ${describe(raw[field])}`);
    }
    const known = new Set(['id', 'label', 'tokenizer', 'inputPerMTok', 'cachedInputPerMTok', 'outputPerMTok', 'contextWindow', 'asOf', 'source']);
    const unknown = Object.keys(raw).filter((key) => !known.has(key));
    if (unknown.length > 0) entryProblems.push(`${label}: unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((key) => `"${key}"`).join(', ')} (allowed: ${[...known].join(', ')})`);

    // A price that is required but bad makes the entry unusable; other problems only drop that field.
    if (base === undefined && (input === undefined || output === undefined)) {
      for (const problem of entryProblems) problems.push(problem);
      problems.push(`${label} was skipped.`);
      return;
    }
    for (const problem of entryProblems) problems.push(problem);
    const userTokenizer = tokenizer ?? base?.tokenizer ?? 'o200k_base';
    models.set(id, {
      id,
      label: typeof raw.label === 'string' ? raw.label : (base?.label ?? id),
      provider: base?.provider ?? 'Custom',
      tokenizer: userTokenizer,
      // A new model without a tokenizer is counted with o200k_base: say it is an estimate.
      tokenizerEstimate: tokenizer !== undefined ? userTokenizer === 'claude' : (base?.tokenizerEstimate ?? true),
      inputPerMTok: input ?? (base as PricedModel).inputPerMTok,
      cachedInputPerMTok: cached ?? base?.cachedInputPerMTok,
      outputPerMTok: output ?? (base as PricedModel).outputPerMTok,
      contextWindow: contextWindow ?? base?.contextWindow ?? 128_000,
      asOf: asOf ?? (input !== undefined || output !== undefined || cached !== undefined ? 'your settings' : (base?.asOf ?? 'your settings')),
      source: typeof raw.source === 'string' ? raw.source : SETTING,
      notes: base ? `Overridden in ${SETTING}.` : `Added in ${SETTING}.`,
    });
  });
  return { models: [...models.values()], problems };
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : String(value);
}
