// The chat's probability view, on the extension's side: each generated token's probability and
// alternatives go from the runtime (or a server) through the turn to the view after the answer,
// once more when the view reloads, and never into the history file. The webview's tints are the
// one scale's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChatBackend, ChatBackendInfo, ChatGenerateRequest, ChatStreamEvent } from '../../../src/core/chat/backend';
import { ChatSession } from '../../../src/core/chat/chatSession';
import { maxTurnProbabilities, runChatTurn } from '../../../src/core/chat/chatTurn';
import { userMessageFrom } from '../../../src/core/chat/conversation';
import { ChatHistoryStore } from '../../../src/core/chat/historyStore';
import { chatTopAlternatives, RuntimeChatBackend, type ChatRuntime } from '../../../src/core/chat/runtimeChatBackend';
import type { GenerationEvent, ModelInfo } from '../../../src/core/runtime/types';
import type { ExtensionToWebview } from '../../../src/core/webview/chatProtocol';
import { probabilityBandCss } from '../../../src/core/webview/probabilityScale';
import { repoRoot } from '../runtime/helpers';

const info: ChatBackendInfo = { label: 'Scripted', canChat: true, supportsThinking: true, contextWindow: 0 };

/** Streams `<think>a</think>` then `b c`, each token with a probability, or `count` tokens of "x". */
class ProbableBackend implements ChatBackend {
  readonly info = info;
  constructor(private readonly count?: number) {}
  async countTokens(text: string): Promise<number> {
    return text.length;
  }
  async countPromptTokens(): Promise<number> {
    return 3;
  }
  async *generate(_request: ChatGenerateRequest): AsyncIterable<ChatStreamEvent> {
    yield { type: 'start', promptTokens: 3, promptOpensThinking: false };
    const texts = this.count === undefined ? ['<think>', 'a', '</think>', 'b', ' c'] : Array.from({ length: this.count }, () => 'x');
    for (const [index, text] of texts.entries()) {
      yield { type: 'text', text, tokens: 1, probabilities: [{ text, logprob: Math.log(0.5 + index / 100), top: [{ text, logprob: Math.log(0.5 + index / 100) }, { text: '?', logprob: Math.log(0.1) }] }] };
    }
    // A text event without probabilities (a server that sent none for it) adds none.
    yield { type: 'text', text: '', tokens: 0 };
    yield { type: 'end', generatedTokens: texts.length, stopReason: 'stop' };
  }
}

test('a turn keeps every generated token\'s probability in order, reasoning included, up to the cap', async () => {
  const result = await runChatTurn(new ProbableBackend(), { messages: [{ role: 'user', content: 'q' }], thinking: 'auto', temperature: 0, topP: 1, maxTokens: 8 }, new AbortController().signal);
  assert.equal(result.thinking?.text, 'a');
  assert.equal(result.answer, 'b c');
  assert.deepEqual(result.probabilities?.map((token) => token.text), ['<think>', 'a', '</think>', 'b', ' c']);
  assert.ok(Math.abs(result.probabilities![3]!.logprob - Math.log(0.53)) < 1e-12);
  const long = await runChatTurn(new ProbableBackend(maxTurnProbabilities + 5), { messages: [{ role: 'user', content: 'q' }], thinking: 'auto', temperature: 0, topP: 1, maxTokens: 9000 }, new AbortController().signal);
  assert.equal(long.probabilities?.length, maxTurnProbabilities);
});

test('the runtime backend asks for alternatives and hands each token\'s probability on', async () => {
  const model = { id: 'm', label: 'm', contextLength: 512, hasChatTemplate: true, templateSupportsThinking: false, specialTokens: {} } as unknown as ModelInfo;
  const asked: number[] = [];
  const runtime: ChatRuntime = {
    loadedModel: model,
    ensureLoaded: async () => model,
    encodePrompt: async () => [1, 2],
    generate: (request) => {
      asked.push(request.topLogprobs ?? 0);
      return (async function* (): AsyncGenerator<GenerationEvent> {
        yield { type: 'start', promptTokens: 2, reusedTokens: 0, truncatedTokens: 0, maxTokens: 4, seed: 1 };
        yield { type: 'token', index: 0, id: 7, text: 'Hi', logprob: -0.25, top: [{ id: 7, text: 'Hi', logprob: -0.25 }, { id: 8, text: 'Hello', logprob: -1.5 }] };
        yield { type: 'end', finishReason: 'eos', text: 'Hi', timings: { prefillMs: 1, decodeMs: 1, promptTokens: 2, prefilledTokens: 2, generatedTokens: 1, tokensPerSecond: 1 } };
      })();
    },
  };
  const result = await runChatTurn(new RuntimeChatBackend('m', 'm', runtime), { messages: [{ role: 'user', content: 'q' }], thinking: 'auto', temperature: 0, topP: 1, maxTokens: 4 }, new AbortController().signal);
  assert.deepEqual(asked, [chatTopAlternatives]);
  assert.deepEqual(result.probabilities, [{ text: 'Hi', logprob: -0.25, top: [{ text: 'Hi', logprob: -0.25 }, { text: 'Hello', logprob: -1.5 }] }]);
});

test('the session posts an answer\'s probabilities after it, again when the view reloads, and never stores them', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'tokenscope-probabilities-'));
  const log = { info() {}, warn() {}, error() {}, debug() {} };
  const history = new ChatHistoryStore(join(folder, 'chat-history.json'), 50, log);
  const posts: ExtensionToWebview[] = [];
  const session = new ChatSession({
    post: (message) => posts.push(message),
    history,
    backend: () => new ProbableBackend(),
    settings: () => ({ thinking: 'auto', temperature: 0, topP: 1, maxTokens: 16, historyLimit: 50 }),
    estimateCost: () => undefined,
    log,
    annotate() {},
    onSaveFailed() {},
  });
  try {
    await session.send('r1', userMessageFrom('q', []) ?? assert.fail('a message'));
    const types = posts.map((post) => post.type);
    assert.deepEqual(types.slice(-2), ['turnEnd', 'probabilities']);
    const end = posts.at(-2) as Extract<ExtensionToWebview, { type: 'turnEnd' }>;
    const sent = posts.at(-1) as Extract<ExtensionToWebview, { type: 'probabilities' }>;
    assert.equal(sent.messageId, end.message.id);
    assert.equal(sent.total, 5);
    assert.deepEqual(sent.tokens.map((token) => token.text), ['<think>', 'a', '</think>', 'b', ' c']);
    posts.length = 0;
    await session.ready();
    assert.deepEqual(posts.map((post) => post.type), ['init', 'probabilities']);
    assert.deepEqual(posts[1], sent);
    await history.flush();
    assert.doesNotMatch(readFileSync(join(folder, 'chat-history.json'), 'utf8'), /logprob/);
  } finally {
    session.dispose();
    await history.flush().catch(() => undefined);
    rmSync(folder, { recursive: true, force: true });
  }
});

test('the chat view tints tokens with the one scale', () => {
  assert.ok(readFileSync(join(repoRoot, 'media', 'chat', 'chat.css'), 'utf8').includes(probabilityBandCss), 'media/chat/chat.css carries probabilityBandCss as it is');
});
