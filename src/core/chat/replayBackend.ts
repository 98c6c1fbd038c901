import { approximateTokenCount, pseudoTokenPattern, type ChatBackend, type ChatBackendInfo, type ChatGenerateRequest, type ChatMessage, type ChatStreamEvent, type ThinkingMode } from './backend';
import { pickTranscript, type Transcript } from './transcripts';
import { mulberry32 as random } from '../random';

export interface ReplayOptions {
  /** Mean pause between chunks; 0 replays as fast as the consumer reads (unit tests). */
  readonly delayMs?: number;
  /** Seed for chunk sizes and pauses, so a replay is the same every run. */
  readonly seed?: number;
  readonly contextWindow?: number;
}

/**
 * Splits text into chunks of one to three token-like pieces, the way a detokenising stream arrives:
 * tags like `<think>` land split across chunks (`<`, `think`, `>`), as do words and newlines.
 */
export function chunkLikeTokens(text: string, seed = 1): { text: string; tokens: number }[] {
  const pieces = text.match(pseudoTokenPattern) ?? [];
  const next = random(seed);
  const chunks: { text: string; tokens: number }[] = [];
  for (let index = 0; index < pieces.length; ) {
    const take = 1 + Math.floor(next() * 3);
    const group = pieces.slice(index, index + take);
    chunks.push({ text: group.join(''), tokens: group.length });
    index += group.length;
  }
  return chunks;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Replays recorded transcripts as if a model were generating them, through the same event stream a
 * real backend produces: for end-to-end tests and demos without a model.
 */
export class ReplayBackend implements ChatBackend {
  readonly info: ChatBackendInfo;
  private readonly delayMs: number;
  private readonly seed: number;

  constructor(private readonly transcripts: readonly Transcript[], options: ReplayOptions = {}) {
    if (transcripts.length === 0) throw new Error('ReplayBackend needs at least one transcript.');
    this.delayMs = options.delayMs ?? 12;
    this.seed = options.seed ?? 7;
    this.info = { label: `Replay (${transcripts.length} recorded transcripts)`, canChat: true, supportsThinking: true, contextWindow: options.contextWindow ?? 32768 };
  }

  async countTokens(text: string): Promise<number> {
    return approximateTokenCount(text);
  }

  async countPromptTokens(messages: readonly ChatMessage[], thinking: ThinkingMode): Promise<number> {
    return this.promptTokens(messages, thinking);
  }

  private promptTokens(messages: readonly ChatMessage[], thinking: ThinkingMode): number {
    // ChatML framing: `<|im_start|>role\n` … `<|im_end|>\n` is about 5 tokens a message, plus the assistant header.
    const body = messages.reduce((sum, message) => sum + approximateTokenCount(message.content) + 5, 0);
    return body + 3 + (thinking === 'on' ? 2 : 0);
  }

  async *generate(request: ChatGenerateRequest, signal: AbortSignal): AsyncIterable<ChatStreamEvent> {
    const lastUser = [...request.messages].reverse().find((message) => message.role === 'user')?.content ?? '';
    const transcript = pickTranscript(this.transcripts, lastUser, request.thinking);
    yield { type: 'start', promptTokens: this.promptTokens(request.messages, request.thinking), promptOpensThinking: transcript.promptOpensThinking };
    const next = random(this.seed + 1);
    let generatedTokens = 0;
    for (const chunk of chunkLikeTokens(transcript.output, this.seed)) {
      // Jittered pauses: first token slower (prompt processing), then irregular decode steps.
      await sleep(this.delayMs * (generatedTokens === 0 ? 8 : 0.4 + next() * 1.2), signal);
      if (signal.aborted) {
        yield { type: 'end', generatedTokens, stopReason: 'aborted' };
        return;
      }
      if (generatedTokens + chunk.tokens > request.maxTokens) {
        const room = request.maxTokens - generatedTokens;
        const pieces = chunk.text.match(pseudoTokenPattern)?.slice(0, room) ?? [];
        if (pieces.length > 0) yield { type: 'text', text: pieces.join(''), tokens: pieces.length };
        yield { type: 'end', generatedTokens: generatedTokens + pieces.length, stopReason: 'length' };
        return;
      }
      generatedTokens += chunk.tokens;
      yield { type: 'text', text: chunk.text, tokens: chunk.tokens };
    }
    yield { type: 'end', generatedTokens, stopReason: 'stop' };
  }
}
