import type { ModelTokenizer, TokenSpan } from '../../../src/core/tokenizers/types';
import type { CompletionBackend, GeneratedChunk, CompletionGenerateRequest, GenerateSummary } from '../../../src/core/completions/backend';

/**
 * A tiny but contract-faithful model tokenizer: one token per UTF-16 code unit, plus special tokens.
 * `encode` treats special strings as text (as the real tokenizers do); only
 * `encodeWithSpecialTokens` turns them into control ids.
 */
export class CharTokenizer implements ModelTokenizer {
  readonly id = 'char';
  readonly label = 'char test tokenizer';
  readonly estimate = false;
  readonly specialTokens: ReadonlyMap<string, number>;
  private readonly byId = new Map<number, string>();
  static readonly textBase = 1000;

  constructor(specials: readonly string[]) {
    this.specialTokens = new Map(specials.map((token, index) => [token, index]));
    for (const [token, id] of this.specialTokens) this.byId.set(id, token);
  }

  get vocabSize(): number {
    return CharTokenizer.textBase + 65536;
  }

  encode(text: string): number[] {
    return Array.from({ length: text.length }, (_, index) => CharTokenizer.textBase + text.charCodeAt(index));
  }

  encodeWithOffsets(text: string): TokenSpan[] {
    return this.encode(text).map((id, index) => ({ id, start: index, end: index + 1 }));
  }

  count(text: string): number {
    return text.length;
  }

  decode(ids: readonly number[]): string {
    return ids.map((id) => this.byId.get(id) ?? String.fromCharCode(id - CharTokenizer.textBase)).join('');
  }

  idToToken(id: number): string | undefined {
    return this.byId.get(id) ?? (id >= CharTokenizer.textBase ? String.fromCharCode(id - CharTokenizer.textBase) : undefined);
  }

  tokenToId(token: string): number | undefined {
    return this.specialTokens.get(token) ?? (token.length === 1 ? CharTokenizer.textBase + token.charCodeAt(0) : undefined);
  }

  encodeWithSpecialTokens(text: string): number[] {
    const specials = [...this.specialTokens.keys()].sort((a, b) => b.length - a.length);
    const ids: number[] = [];
    let index = 0;
    outer: while (index < text.length) {
      for (const special of specials) {
        if (text.startsWith(special, index)) {
          ids.push(this.specialTokens.get(special) as number);
          index += special.length;
          continue outer;
        }
      }
      ids.push(CharTokenizer.textBase + text.charCodeAt(index++));
    }
    return ids;
  }
}

export const qwenSpecials = ['<|endoftext|>', '<|im_start|>', '<|im_end|>', '<|fim_prefix|>', '<|fim_middle|>', '<|fim_suffix|>', '<|fim_pad|>', '<|repo_name|>', '<|file_sep|>'];

export interface FakeCall {
  readonly request: CompletionGenerateRequest;
  readonly prompt: string;
  /** Tokens streamed before the call ended. */
  tokensStreamed: number;
  aborted: boolean;
  finished: boolean;
}

/**
 * A backend that answers from a function of the decoded prompt, streaming one character per token
 * with a delay, honouring the abort signal like the model process must (stops and rejects).
 */
export class FakeBackend implements CompletionBackend {
  readonly calls: FakeCall[] = [];

  /** What lastSummary() reports (tests of the engine's prefill-speed learning). */
  summary: GenerateSummary | undefined;

  constructor(
    private readonly tokenizer: CharTokenizer,
    private readonly answer: (prompt: string) => string,
    private readonly msPerToken = 0,
    /** The probability the fake model gives each token it streams (omitted: it reports none). */
    private readonly tokenProbability?: number,
  ) {}

  lastSummary(): GenerateSummary | undefined {
    return this.summary;
  }

  generate(request: CompletionGenerateRequest, signal: AbortSignal): AsyncIterable<GeneratedChunk> {
    const call: FakeCall = { request, prompt: this.tokenizer.decode(request.promptIds), tokensStreamed: 0, aborted: false, finished: false };
    this.calls.push(call);
    const output = this.answer(call.prompt);
    const delay = this.msPerToken;
    const logprob = this.tokenProbability === undefined ? undefined : Math.log(this.tokenProbability);
    return {
      [Symbol.asyncIterator]: async function* () {
        try {
          for (let index = 0; index < Math.min(output.length, request.maxTokens); index++) {
            if (delay > 0) await sleep(delay, signal);
            if (signal.aborted) throw abortError();
            call.tokensStreamed++;
            yield { text: output[index], tokens: 1, logprob };
          }
        } catch (error) {
          call.aborted = true;
          throw error;
        } finally {
          if (signal.aborted) call.aborted = true;
          call.finished = true;
        }
      },
    };
  }
}

function abortError(): Error {
  const error = new Error('aborted');
  error.name = 'AbortError';
  return error;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(abortError());
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError());
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
