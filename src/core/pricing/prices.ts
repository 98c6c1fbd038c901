/**
 * API prices in USD per million tokens, each with the date it was known to be current (`asOf`) and
 * the page that states it (`source`). Prices change: the UI always shows `asOf`, and users override
 * or add models with the `tokenscope.cost.customModels` setting (see cost.ts).
 *
 * The dates are when each price took effect or was announced, as the maintainers know them; they
 * are not scraped. A model whose provider publishes no tokenizer is counted with a stand-in
 * tokenizer and marked `tokenizerEstimate` (Gemini, Mistral), as are Claude models (the public
 * Claude tokenizer is the legacy one).
 */
export interface PricedModel {
  /** Stable id used in settings (`tokenscope.cost.referenceModel`). */
  readonly id: string;
  readonly label: string;
  readonly provider: string;
  /** Tokenizer id (see tokenizers/registry.ts) used to count this model's tokens. */
  readonly tokenizer: string;
  /** True where {@link tokenizer} only approximates the model's real tokenizer. */
  readonly tokenizerEstimate: boolean;
  readonly inputPerMTok: number;
  /** Price of cached (prompt-cache hit) input tokens; undefined where the provider has none. */
  readonly cachedInputPerMTok?: number;
  readonly outputPerMTok: number;
  /** Tokens of context (prompt + output) the model accepts. */
  readonly contextWindow: number;
  /** ISO date (YYYY-MM-DD) the price is known to be current from. */
  readonly asOf: string;
  readonly source: string;
  /** Caveats shown next to the price (tiers, what the cached price means). */
  readonly notes?: string;
}

const OPENAI = 'https://openai.com/api/pricing/';
const ANTHROPIC = 'https://www.anthropic.com/pricing#api';
const GOOGLE = 'https://ai.google.dev/gemini-api/docs/pricing';
const DEEPSEEK = 'https://api-docs.deepseek.com/quick_start/pricing';
const MISTRAL = 'https://mistral.ai/pricing#api-pricing';
const QWEN = 'https://www.alibabacloud.com/help/en/model-studio/models';

const openai = (id: string, label: string, tokenizer: 'o200k_base' | 'cl100k_base', input: number, cached: number | undefined, output: number, contextWindow: number, asOf: string): PricedModel => ({
  id,
  label,
  provider: 'OpenAI',
  tokenizer,
  tokenizerEstimate: false,
  inputPerMTok: input,
  cachedInputPerMTok: cached,
  outputPerMTok: output,
  contextWindow,
  asOf,
  source: OPENAI,
});

const claude = (id: string, label: string, input: number, cacheRead: number, output: number, asOf: string): PricedModel => ({
  id,
  label,
  provider: 'Anthropic',
  tokenizer: 'claude',
  tokenizerEstimate: true,
  inputPerMTok: input,
  cachedInputPerMTok: cacheRead,
  outputPerMTok: output,
  contextWindow: 200_000,
  asOf,
  source: ANTHROPIC,
  notes: 'Counted with the legacy public Claude tokenizer: an estimate. Cached = prompt-cache read; cache writes cost 1.25x input.',
});

export const PRICED_MODELS: readonly PricedModel[] = [
  // OpenAI: o200k_base for GPT-4o and later, cl100k_base for GPT-4 Turbo and GPT-3.5.
  openai('gpt-5', 'GPT-5', 'o200k_base', 1.25, 0.125, 10, 400_000, '2025-08-07'),
  openai('gpt-5-mini', 'GPT-5 mini', 'o200k_base', 0.25, 0.025, 2, 400_000, '2025-08-07'),
  openai('gpt-5-nano', 'GPT-5 nano', 'o200k_base', 0.05, 0.005, 0.4, 400_000, '2025-08-07'),
  openai('gpt-4.1', 'GPT-4.1', 'o200k_base', 2, 0.5, 8, 1_047_576, '2025-04-14'),
  openai('gpt-4.1-mini', 'GPT-4.1 mini', 'o200k_base', 0.4, 0.1, 1.6, 1_047_576, '2025-04-14'),
  openai('gpt-4.1-nano', 'GPT-4.1 nano', 'o200k_base', 0.1, 0.025, 0.4, 1_047_576, '2025-04-14'),
  openai('gpt-4o', 'GPT-4o', 'o200k_base', 2.5, 1.25, 10, 128_000, '2024-10-01'),
  openai('gpt-4o-mini', 'GPT-4o mini', 'o200k_base', 0.15, 0.075, 0.6, 128_000, '2024-10-01'),
  openai('o3', 'o3', 'o200k_base', 2, 0.5, 8, 200_000, '2025-06-10'),
  openai('o4-mini', 'o4-mini', 'o200k_base', 1.1, 0.275, 4.4, 200_000, '2025-04-16'),
  openai('gpt-4-turbo', 'GPT-4 Turbo', 'cl100k_base', 10, undefined, 30, 128_000, '2024-04-09'),
  openai('gpt-3.5-turbo', 'GPT-3.5 Turbo', 'cl100k_base', 0.5, undefined, 1.5, 16_385, '2024-01-25'),

  // Anthropic.
  claude('claude-opus-4.5', 'Claude Opus 4.5', 5, 0.5, 25, '2025-11-24'),
  claude('claude-opus-4.1', 'Claude Opus 4.1', 15, 1.5, 75, '2025-08-05'),
  claude('claude-sonnet-4.5', 'Claude Sonnet 4.5', 3, 0.3, 15, '2025-09-29'),
  claude('claude-haiku-4.5', 'Claude Haiku 4.5', 1, 0.1, 5, '2025-10-15'),

  // Google: no public Gemini tokenizer; o200k_base stands in.
  {
    id: 'gemini-2.5-pro',
    label: 'Gemini 2.5 Pro',
    provider: 'Google',
    tokenizer: 'o200k_base',
    tokenizerEstimate: true,
    inputPerMTok: 1.25,
    cachedInputPerMTok: 0.31,
    outputPerMTok: 10,
    contextWindow: 1_048_576,
    asOf: '2025-06-17',
    source: GOOGLE,
    notes: 'Prompts up to 200k tokens; longer prompts cost $2.50 in / $15 out. Gemini tokenizer is not public: counted with o200k_base, an estimate.',
  },
  {
    id: 'gemini-2.5-flash',
    label: 'Gemini 2.5 Flash',
    provider: 'Google',
    tokenizer: 'o200k_base',
    tokenizerEstimate: true,
    inputPerMTok: 0.3,
    cachedInputPerMTok: 0.075,
    outputPerMTok: 2.5,
    contextWindow: 1_048_576,
    asOf: '2025-06-17',
    source: GOOGLE,
    notes: 'Text input price. Gemini tokenizer is not public: counted with o200k_base, an estimate.',
  },
  {
    id: 'gemini-2.5-flash-lite',
    label: 'Gemini 2.5 Flash-Lite',
    provider: 'Google',
    tokenizer: 'o200k_base',
    tokenizerEstimate: true,
    inputPerMTok: 0.1,
    cachedInputPerMTok: 0.025,
    outputPerMTok: 0.4,
    contextWindow: 1_048_576,
    asOf: '2025-07-22',
    source: GOOGLE,
    notes: 'Text input price. Gemini tokenizer is not public: counted with o200k_base, an estimate.',
  },

  // DeepSeek: the V3 tokenizer is public (exact counts).
  {
    id: 'deepseek-chat',
    label: 'DeepSeek-V3.2 (deepseek-chat)',
    provider: 'DeepSeek',
    tokenizer: 'deepseek-v3',
    tokenizerEstimate: false,
    inputPerMTok: 0.28,
    cachedInputPerMTok: 0.028,
    outputPerMTok: 0.42,
    contextWindow: 128_000,
    asOf: '2025-09-29',
    source: DEEPSEEK,
    notes: 'Input = cache miss; cached = cache hit.',
  },
  {
    id: 'deepseek-reasoner',
    label: 'DeepSeek-V3.2 thinking (deepseek-reasoner)',
    provider: 'DeepSeek',
    tokenizer: 'deepseek-v3',
    tokenizerEstimate: false,
    inputPerMTok: 0.28,
    cachedInputPerMTok: 0.028,
    outputPerMTok: 0.42,
    contextWindow: 128_000,
    asOf: '2025-09-29',
    source: DEEPSEEK,
    notes: 'Reasoning tokens are billed as output. Input = cache miss; cached = cache hit.',
  },

  // Mistral: Tekken tokenizer files are not on npm; o200k_base stands in.
  ...(
    [
      ['mistral-large', 'Mistral Large', 2, 6, 128_000, '2024-11-18'],
      ['mistral-medium-3', 'Mistral Medium 3', 0.4, 2, 128_000, '2025-05-07'],
      ['mistral-small-3.1', 'Mistral Small 3.1', 0.1, 0.3, 128_000, '2025-03-17'],
      ['codestral', 'Codestral', 0.3, 0.9, 256_000, '2025-01-13'],
    ] as const
  ).map(
    ([id, label, input, output, contextWindow, asOf]): PricedModel => ({
      id,
      label,
      provider: 'Mistral',
      tokenizer: 'o200k_base',
      tokenizerEstimate: true,
      inputPerMTok: input,
      outputPerMTok: output,
      contextWindow,
      asOf,
      source: MISTRAL,
      notes: 'Mistral’s Tekken tokenizer is not available offline: counted with o200k_base, an estimate.',
    }),
  ),

  // Qwen API (Alibaba Cloud Model Studio, international): Qwen2.5 vocabulary.
  ...(
    [
      ['qwen-max', 'Qwen-Max (Qwen2.5-Max)', 1.6, 6.4, 32_768],
      ['qwen-plus', 'Qwen-Plus', 0.4, 1.2, 131_072],
      ['qwen-turbo', 'Qwen-Turbo', 0.05, 0.2, 1_000_000],
    ] as const
  ).map(
    ([id, label, input, output, contextWindow]): PricedModel => ({
      id,
      label,
      provider: 'Qwen (Alibaba Cloud)',
      tokenizer: 'qwen2.5',
      tokenizerEstimate: false,
      inputPerMTok: input,
      outputPerMTok: output,
      contextWindow,
      asOf: '2025-01-28',
      source: QWEN,
      notes: 'International (Singapore) region list price.',
    }),
  ),
];
