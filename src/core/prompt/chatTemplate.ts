/**
 * Renders a model's chat template (tokenizer_config.json `chat_template`, Jinja) with
 * @huggingface/jinja and encodes the result so that message contents can never turn into control
 * tokens.
 *
 * How: before rendering, every special-token string inside a message (`<|im_end|>`, `<think>`,
 * ...) is replaced by a private-use sentinel. The template then sees ordinary text (its string
 * tests like `content.startswith(...)` still work), the rendered string is split at the
 * sentinels, template text is encoded with special tokens recognised (it holds the template's own
 * `<|im_start|>` etc. and the cleaned contents) and the escaped strings are encoded as plain text.
 * For ordinary messages the ids equal Hugging Face's `apply_chat_template(tokenize=True)`.
 */
import { Template } from '@huggingface/jinja';
import type { ModelTokenizer } from '../tokenizers/types';

export interface ChatMessageInput {
  readonly role: string;
  readonly content: string;
  readonly reasoning_content?: string;
}

export type TemplateVariable = string | number | boolean | null | readonly TemplateVariable[] | { readonly [key: string]: TemplateVariable };

export interface RenderChatOptions {
  readonly messages: readonly ChatMessageInput[];
  /** End with the opening of the assistant's turn (default true). */
  readonly addGenerationPrompt?: boolean;
  /** Extra variables, e.g. `{ enable_thinking: false }` for Qwen3. */
  readonly variables?: Readonly<Record<string, TemplateVariable>>;
  readonly bosToken?: string;
  readonly eosToken?: string;
}

export interface PromptSegment {
  readonly text: string;
  /** True: template text, special-token strings become control tokens. False: plain text. */
  readonly trusted: boolean;
}

export interface RenderedChat {
  /** The prompt as text (what the model sees, control tokens spelled out). */
  readonly text: string;
  readonly segments: readonly PromptSegment[];
}

export class ChatTemplateError extends Error {
  override readonly name = 'ChatTemplateError';
}

const SENTINEL_OPEN = '\uE000';
const SENTINEL_CLOSE = '\uE001';
const SENTINEL = /\uE000(\d+)\uE001/g;

const templateCache = new Map<string, Template>();

function compile(source: string): Template {
  let template = templateCache.get(source);
  if (!template) {
    try {
      template = new Template(source);
    } catch (error) {
      throw new ChatTemplateError(`The model's chat template (tokenizer_config.json) cannot be parsed: ${(error as Error).message}. Use a model whose tokenizer_config.json has a valid chat_template.`);
    }
    if (templateCache.size > 16) templateCache.clear();
    templateCache.set(source, template);
  }
  return template;
}

/**
 * Renders messages. `specialStrings` are the strings to keep out of contents' control tokens:
 * all added tokens of the vocabulary (ModelTokenizer.specialTokens keys).
 */
export function renderChatTemplate(source: string, specialStrings: Iterable<string>, options: RenderChatOptions): RenderedChat {
  // Longest first so `<|im_end|>` is not split by a shorter token that is its prefix.
  const specials = [...specialStrings].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
  const escaped: string[] = [];
  const escapeText = (text: string): string => {
    let out = '';
    let index = 0;
    outer: while (index < text.length) {
      const char = text[index];
      if (char === SENTINEL_OPEN || char === SENTINEL_CLOSE) {
        // Keep our sentinel characters out of contents too.
        out += `${SENTINEL_OPEN}${escaped.push(char) - 1}${SENTINEL_CLOSE}`;
        index++;
        continue;
      }
      for (const special of specials) {
        if (text.startsWith(special, index)) {
          out += `${SENTINEL_OPEN}${escaped.push(special) - 1}${SENTINEL_CLOSE}`;
          index += special.length;
          continue outer;
        }
      }
      out += char;
      index++;
    }
    return out;
  };
  const messages = options.messages.map((message) => ({
    ...message,
    content: escapeText(message.content),
    ...(message.reasoning_content !== undefined ? { reasoning_content: escapeText(message.reasoning_content) } : {}),
  }));
  let rendered: string;
  try {
    rendered = compile(source).render({
      ...options.variables,
      messages,
      add_generation_prompt: options.addGenerationPrompt ?? true,
      bos_token: options.bosToken ?? '',
      eos_token: options.eosToken ?? '',
    });
  } catch (error) {
    throw new ChatTemplateError(`The model's chat template failed on these messages: ${(error as Error).message}.`);
  }
  const segments: PromptSegment[] = [];
  let last = 0;
  for (const match of rendered.matchAll(SENTINEL)) {
    const index = match.index ?? 0;
    if (index > last) segments.push({ text: rendered.slice(last, index), trusted: true });
    const original = escaped[Number(match[1])];
    if (original === undefined) throw new ChatTemplateError('The chat template produced an unknown placeholder; it may rewrite message contents in an unsupported way.');
    segments.push({ text: original, trusted: false });
    last = index + match[0].length;
  }
  if (last < rendered.length) segments.push({ text: rendered.slice(last), trusted: true });
  return { text: segments.map((segment) => segment.text).join(''), segments: mergeSegments(segments) };
}

/** Joins neighbours of the same kind so plain text is encoded in one piece. */
function mergeSegments(segments: readonly PromptSegment[]): PromptSegment[] {
  const merged: PromptSegment[] = [];
  for (const segment of segments) {
    const previous = merged[merged.length - 1];
    if (previous && previous.trusted === segment.trusted) merged[merged.length - 1] = { text: previous.text + segment.text, trusted: segment.trusted };
    else merged.push(segment);
  }
  return merged;
}

export function encodeSegments(tokenizer: Pick<ModelTokenizer, 'encode' | 'encodeWithSpecialTokens'>, segments: readonly PromptSegment[]): number[] {
  const ids: number[] = [];
  for (const segment of segments) {
    const part = segment.trusted ? tokenizer.encodeWithSpecialTokens(segment.text) : tokenizer.encode(segment.text);
    for (const id of part) ids.push(id);
  }
  return ids;
}

/** Renders and encodes in one step. */
export function encodeChat(tokenizer: ModelTokenizer, source: string, options: RenderChatOptions): { ids: number[]; rendered: RenderedChat } {
  const rendered = renderChatTemplate(source, tokenizer.specialTokens.keys(), options);
  return { ids: encodeSegments(tokenizer, rendered.segments), rendered };
}

/** Whether a template knows thinking mode (Qwen3's enable_thinking, DeepSeek-R1's `<think>`). */
export function templateSupportsThinking(source: string | undefined): boolean {
  return !!source && (source.includes('enable_thinking') || source.includes('<think>'));
}
