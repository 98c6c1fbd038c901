/**
 * Fill-in-the-middle (FIM) prompt formats per model family, exactly as documented by each family
 * (the sources are listed in test/unit/completions/fimTemplates.test.ts, which checks the Qwen and
 * DeepSeek tokens against their real vocabularies). A prompt is built as a list of parts: control tokens, which only
 * this module may produce, and text, which is always encoded as plain text so that a file containing
 * `<|fim_middle|>` can never inject a control token.
 */

export type FimFamily = 'qwen2.5-coder' | 'tokenscope-mini' | 'deepseek-coder' | 'starcoder2' | 'codellama' | 'server-fim';

/** One piece of a prompt: a control token by its vocabulary string, or text encoded as user content. */
export type PromptPart =
  | { readonly kind: 'control'; readonly token: string }
  /** `role` marks the part that is exactly the prefix or suffix text, so its ids can be reused. */
  | { readonly kind: 'text'; readonly text: string; readonly role?: 'prefix' | 'suffix' };

/** Another file's chunk given to the model as repository context. */
export interface RepoFile {
  readonly path: string;
  readonly content: string;
}

export interface FimInput {
  readonly prefix: string;
  readonly suffix: string;
  /** Path of the file being completed, relative to the workspace where possible. */
  readonly path?: string;
  /** Repository (workspace) name for repository context. */
  readonly repoName?: string;
  /** Chunks of other files; used only by families that support repository context. */
  readonly repoFiles?: readonly RepoFile[];
}

export interface FimTemplate {
  readonly family: FimFamily;
  /** Human name shown in logs and in `tokenscope complete --json` (`template`). */
  readonly label: string;
  /** True where the family was trained with `<|file_sep|>`-style repository context. */
  readonly supportsRepoContext: boolean;
  /** Control tokens that end a completion (vocabulary strings). */
  readonly stopTokens: readonly string[];
  /** Control tokens the template uses; all must exist in the vocabulary. */
  readonly controlTokens: readonly string[];
  /** False for a prefix-only prompt: the prompt builder then gives the whole window to the prefix. */
  readonly usesSuffix?: boolean;
  build(input: FimInput): PromptPart[];
}

const withFinalNewline = (content: string) => (content.endsWith('\n') ? content : `${content}\n`);
const control = (token: string): PromptPart => ({ kind: 'control', token });
const text = (value: string): PromptPart => ({ kind: 'text', text: value });
const prefixText = (value: string): PromptPart => ({ kind: 'text', text: value, role: 'prefix' });
const suffixText = (value: string): PromptPart => ({ kind: 'text', text: value, role: 'suffix' });

/**
 * Qwen2.5-Coder: `<|fim_prefix|>{pre}<|fim_suffix|>{suf}<|fim_middle|>`; repository context
 * `<|repo_name|>{name}\n<|file_sep|>{path}\n{content}` per file, then `<|file_sep|>{path}\n` before
 * the FIM part (Qwen2.5-Coder technical report, repository-level completion format).
 */
const qwenCoder: FimTemplate = {
  family: 'qwen2.5-coder',
  label: 'Qwen2.5-Coder FIM',
  supportsRepoContext: true,
  stopTokens: ['<|endoftext|>', '<|fim_pad|>', '<|file_sep|>', '<|im_start|>', '<|im_end|>'],
  controlTokens: ['<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>', '<|repo_name|>', '<|file_sep|>'],
  build(input) {
    const parts: PromptPart[] = [];
    if (input.repoFiles && input.repoFiles.length > 0) {
      parts.push(control('<|repo_name|>'), text(`${input.repoName ?? 'workspace'}\n`));
      // Each file's content ends with a line break before the next separator.
      for (const file of input.repoFiles) parts.push(control('<|file_sep|>'), text(`${file.path}\n${withFinalNewline(file.content)}`));
      parts.push(control('<|file_sep|>'), text(`${input.path ?? 'untitled'}\n`));
    }
    parts.push(control('<|fim_prefix|>'), prefixText(input.prefix), control('<|fim_suffix|>'), suffixText(input.suffix), control('<|fim_middle|>'));
    return parts;
  },
};

/** DeepSeek-Coder: `<｜fim▁begin｜>{pre}<｜fim▁hole｜>{suf}<｜fim▁end｜>` (fullwidth ｜ U+FF5C, ▁ U+2581). */
const deepseek: FimTemplate = {
  family: 'deepseek-coder',
  label: 'DeepSeek-Coder FIM',
  supportsRepoContext: false,
  stopTokens: ['<｜end▁of▁sentence｜>', '<|EOT|>'],
  controlTokens: ['<｜fim▁begin｜>', '<｜fim▁hole｜>', '<｜fim▁end｜>'],
  build: (input) => [control('<｜fim▁begin｜>'), prefixText(input.prefix), control('<｜fim▁hole｜>'), suffixText(input.suffix), control('<｜fim▁end｜>')],
};

/**
 * StarCoder2: `<fim_prefix>{pre}<fim_suffix>{suf}<fim_middle>`; repository context as in its
 * training data: `<repo_name>{name}<file_sep>{path}\n{content}` per file, then `<file_sep>{path}\n`.
 */
const starcoder2: FimTemplate = {
  family: 'starcoder2',
  label: 'StarCoder2 FIM',
  supportsRepoContext: true,
  stopTokens: ['<|endoftext|>'],
  controlTokens: ['<fim_prefix>', '<fim_suffix>', '<fim_middle>', '<repo_name>', '<file_sep>'],
  build(input) {
    const parts: PromptPart[] = [];
    if (input.repoFiles && input.repoFiles.length > 0) {
      parts.push(control('<repo_name>'), text(input.repoName ?? 'workspace'));
      for (const file of input.repoFiles) parts.push(control('<file_sep>'), text(`${file.path}\n${withFinalNewline(file.content)}`));
      parts.push(control('<file_sep>'), text(`${input.path ?? 'untitled'}\n`));
    }
    parts.push(control('<fim_prefix>'), prefixText(input.prefix), control('<fim_suffix>'), suffixText(input.suffix), control('<fim_middle>'));
    return parts;
  },
};

/**
 * CodeLlama: `<PRE> {pre} <SUF>{suf} <MID>`; the spaces are part of the format, so prefix and suffix
 * are encoded together with them (no `role`: their ids cannot be reused from the bare text).
 */
const codellama: FimTemplate = {
  family: 'codellama',
  label: 'CodeLlama FIM',
  supportsRepoContext: false,
  stopTokens: ['<EOT>'],
  controlTokens: ['<PRE>', '<SUF>', '<MID>'],
  build: (input) => [control('<PRE>'), text(` ${input.prefix} `), control('<SUF>'), text(`${input.suffix} `), control('<MID>')],
};

/**
 * The built-in model, asked with its prefix only: `<|endoftext|>{pre}`. It was trained with
 * Qwen2.5-Coder's FIM format, but measured on held-out lines (models/tokenscope-mini/README.md) its
 * fill-in-the-middle answers are worse than plain next-token completion from the same prefix, so the
 * editor asks it the better way. The text after the cursor still shapes the answer: post-processing
 * stops where the completion runs into it. A unit test keeps this choice equal to what the model
 * card measures (a retrained model whose FIM wins fails it). It saw no repository-level samples,
 * so it gets no repository context either.
 */
const miniPrefixOnly: FimTemplate = {
  family: 'tokenscope-mini',
  label: 'tokenscope-mini, prefix only (its FIM is weaker: see its model card)',
  supportsRepoContext: false,
  usesSuffix: false,
  // A generated FIM token means the model left plain code: stop there too.
  stopTokens: [...qwenCoder.stopTokens, '<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>'],
  controlTokens: ['<|endoftext|>'],
  build: (input) => [control('<|endoftext|>'), prefixText(input.prefix)],
};

/**
 * A server that builds the fill-in-the-middle prompt itself from `prompt` and `suffix` (Ollama
 * applies the model's own template; the DeepSeek API's FIM endpoint): Tokenscope only cuts the
 * window to budget and sends both halves, with control-token spellings made inert.
 */
const serverFim: FimTemplate = {
  family: 'server-fim',
  label: 'server-side FIM (prompt + suffix)',
  supportsRepoContext: false,
  stopTokens: [],
  controlTokens: [],
  build: (input) => [prefixText(input.prefix), suffixText(input.suffix)],
};

export const fimTemplates: Readonly<Record<FimFamily, FimTemplate>> = {
  'qwen2.5-coder': qwenCoder,
  'tokenscope-mini': miniPrefixOnly,
  'deepseek-coder': deepseek,
  starcoder2,
  codellama,
  'server-fim': serverFim,
};

/**
 * Zero-width non-joiner, put after the `<` of a control-token spelling found in document text: a
 * server that tokenizes a text prompt (Ollama, LM Studio, hosted APIs) then sees plain text where
 * a file spells `<|fim_middle|>` or `<|im_end|>`, never the control token.
 */
export const INERT_MARK = '\u200c';

/** Spellings that look like control tokens in any family we know (plus a vocabulary's own specials). */
const controlLikePattern = String.raw`<\|[^|<>\s]{1,48}\|>|<｜[^｜<>]{1,48}｜>|<\/?(?:fim_[a-z]+|fim▁[a-z]+|file_sep|repo_name|think|PRE|SUF|MID|EOT|s)>`;
const inertPatterns = new Map<string, RegExp>();

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Makes every control-token spelling in `text` inert (see INERT_MARK): the generic shapes above
 * and `specialTokens` (a vocabulary's added tokens). Text without any is returned unchanged.
 */
export function inertText(text: string, specialTokens: Iterable<string> = []): string {
  const specials = [...specialTokens].filter((token) => token.length > 1 && token.startsWith('<'));
  const key = specials.join('\u0000');
  let pattern = inertPatterns.get(key);
  if (!pattern) {
    pattern = new RegExp([controlLikePattern, ...specials.sort((a, b) => b.length - a.length).map(escapeRegExp)].join('|'), 'g');
    if (inertPatterns.size > 16) inertPatterns.clear();
    inertPatterns.set(key, pattern);
  }
  return text.replace(pattern, (match) => `${match[0]}${INERT_MARK}${match.slice(1)}`);
}

/**
 * Renders parts as a text prompt for servers that take text: control tokens spelled as the
 * vocabulary spells them, every text part made inert.
 */
export function renderInertPrompt(parts: readonly PromptPart[], specialTokens: Iterable<string> = []): string {
  const specials = [...specialTokens];
  return parts.map((part) => (part.kind === 'control' ? part.token : inertText(part.text, specials))).join('');
}

/** Renders parts as one string: for logs, the CLI, and tests against the documented formats. */
export function renderPrompt(parts: readonly PromptPart[]): string {
  return parts.map((part) => (part.kind === 'control' ? part.token : part.text)).join('');
}

/** What a vocabulary offers, enough to decide the FIM format. */
export interface VocabularyProbe {
  /** The `model_type` of config.json, if known. */
  readonly modelType?: string;
  /** True for Tokenscope's built-in model (from the model catalog, not from a name). */
  readonly builtin?: boolean;
  /** True where the vocabulary holds this token string (added/special tokens included). */
  hasToken(token: string): boolean;
}

export type FimDetection =
  | { readonly ok: true; readonly template: FimTemplate; readonly reason: string }
  | { readonly ok: false; readonly reason: string };

/** Vocabulary spellings of CodeLlama's control tokens: SentencePiece stores them with a leading `▁`. */
export const codellamaTokenAliases: Readonly<Record<string, readonly string[]>> = {
  '<PRE>': ['<PRE>', '▁<PRE>'],
  '<SUF>': ['<SUF>', '▁<SUF>'],
  '<MID>': ['<MID>', '▁<MID>'],
  '<EOT>': ['<EOT>', '▁<EOT>'],
};

/** Every vocabulary spelling under which a template's control token may appear. */
export function tokenSpellings(token: string): readonly string[] {
  return codellamaTokenAliases[token] ?? [token];
}

const hasAny = (probe: VocabularyProbe, token: string) => tokenSpellings(token).some((spelling) => probe.hasToken(spelling));

/**
 * Chooses the FIM format from the model's vocabulary (and `model_type` for the built-in model),
 * never from its name: a fine-tune called "qwen-something" with another vocabulary gets the format
 * its tokens support, and a model without FIM tokens gets a clear "no fill-in-the-middle" answer.
 */
export function detectFimTemplate(probe: VocabularyProbe): FimDetection {
  const modelType = probe.modelType ?? 'unknown';
  const required = (family: FimFamily) => fimTemplates[family].controlTokens.slice(0, 3).every((token) => hasAny(probe, token));
  if (probe.hasToken('<|fim_prefix|>')) {
    if (!required('qwen2.5-coder')) return incomplete('Qwen2.5-Coder', ['<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>'], probe);
    const family: FimFamily = probe.builtin || modelType === 'tokenscope-mini' ? 'tokenscope-mini' : 'qwen2.5-coder';
    return { ok: true, template: withoutMissingRepoTokens(fimTemplates[family], probe), reason: `vocabulary has <|fim_prefix|> (model_type ${modelType})` };
  }
  if (probe.hasToken('<｜fim▁begin｜>')) {
    if (!required('deepseek-coder')) return incomplete('DeepSeek-Coder', ['<｜fim▁begin｜>', '<｜fim▁hole｜>', '<｜fim▁end｜>'], probe);
    return { ok: true, template: deepseek, reason: `vocabulary has <｜fim▁begin｜> (model_type ${modelType})` };
  }
  if (probe.hasToken('<fim_prefix>')) {
    if (!required('starcoder2')) return incomplete('StarCoder2', ['<fim_prefix>', '<fim_suffix>', '<fim_middle>'], probe);
    return { ok: true, template: withoutMissingRepoTokens(starcoder2, probe), reason: `vocabulary has <fim_prefix> (model_type ${modelType})` };
  }
  if (hasAny(probe, '<PRE>')) {
    if (!required('codellama')) return incomplete('CodeLlama', ['<PRE>', '<SUF>', '<MID>'], probe);
    return { ok: true, template: codellama, reason: `vocabulary has <PRE> (model_type ${modelType})` };
  }
  return {
    ok: false,
    reason: `This model (model_type ${modelType}) has no fill-in-the-middle tokens (none of <|fim_prefix|>, <｜fim▁begin｜>, <fim_prefix>, <PRE> is in its vocabulary), so it cannot complete code at the cursor. Choose a code model with FIM support, e.g. tokenscope-mini or Qwen2.5-Coder.`,
  };
}

function incomplete(name: string, tokens: readonly string[], probe: VocabularyProbe): FimDetection {
  const missing = tokens.filter((token) => !hasAny(probe, token));
  return { ok: false, reason: `The vocabulary looks like ${name} but lacks ${missing.join(', ')}, so fill-in-the-middle prompts cannot be built. Check that tokenizer.json belongs to this model.` };
}

/** A vocabulary with FIM tokens but no repository tokens still completes, without repo context. */
function withoutMissingRepoTokens(template: FimTemplate, probe: VocabularyProbe): FimTemplate {
  const repoTokens = template.controlTokens.slice(3);
  if (repoTokens.every((token) => probe.hasToken(token))) return template;
  return withoutRepoContext(template);
}

function withoutRepoContext(template: FimTemplate): FimTemplate {
  if (!template.supportsRepoContext) return template;
  return { ...template, supportsRepoContext: false, controlTokens: template.controlTokens.slice(0, 3), build: (input) => template.build({ ...input, repoFiles: undefined }) };
}

/** The template a detection chose, rebuilt from plain data (family and repo support) in another thread. */
export function templateFor(family: FimFamily, supportsRepoContext: boolean): FimTemplate {
  return supportsRepoContext ? fimTemplates[family] : withoutRepoContext(fimTemplates[family]);
}
