// Before you send, and over time, in the chat session: the input's cost line, Explain Selection's
// progress line, and each answer's usage recorded as chat or explain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChatBackend, ChatBackendInfo, ChatGenerateRequest, ChatMessage, ChatStreamEvent } from '../../../src/core/chat/backend';
import { ChatSession } from '../../../src/core/chat/chatSession';
import { userMessageFrom } from '../../../src/core/chat/conversation';
import { ChatHistoryStore } from '../../../src/core/chat/historyStore';
import { promptCost } from '../../../src/core/cost/promptCost';
import type { TokenUsage } from '../../../src/core/pricing/cost';
import { buildPriceTable } from '../../../src/core/pricing/cost';
import type { ExtensionToWebview } from '../../../src/core/webview/chatProtocol';

/** Each prompt message counts 100 tokens; the answer is three pieces of one token. */
class Backend implements ChatBackend {
  readonly info: ChatBackendInfo = { label: 'Scripted', canChat: true, supportsThinking: false, contextWindow: 8192 };
  async countTokens(text: string): Promise<number> {
    return text.length;
  }
  async countPromptTokens(messages: readonly ChatMessage[]): Promise<number> {
    return messages.length * 100;
  }
  async *generate(request: ChatGenerateRequest): AsyncIterable<ChatStreamEvent> {
    yield { type: 'start', promptTokens: request.messages.length * 100, promptOpensThinking: false };
    for (const piece of ['One ', 'two ', 'three.']) yield { type: 'text', text: piece, tokens: 1 };
    yield { type: 'end', generatedTokens: 3, stopReason: 'stop' };
  }
}

const gpt4o = buildPriceTable([]).models.find((model) => model.id === 'gpt-4o');

test('the prompt cost line: input on the reference model plus the worst case for maxTokens of output, with the price date', () => {
  assert.ok(gpt4o);
  // 1,000 prompt tokens at $2.50/M = $0.0025; 512 output tokens at $10/M = $0.00512.
  const cost = promptCost(1000, 512, gpt4o, new Date('2026-12-03T12:00:00Z'));
  assert.equal(cost.inputUSD, 0.0025);
  assert.equal(cost.worstOutputUSD, 0.00512);
  assert.equal(cost.text, '≈$0.0025 in + up to $0.0051 out (512 tok) on gpt-4o · prices as of 2024-10-01 ⚠ possibly stale');
  const fresh = promptCost(1000, 512, { ...gpt4o, asOf: '2026-11-01' }, new Date('2026-12-03T12:00:00Z'));
  assert.doesNotMatch(fresh.text, /stale/);
});

test('chat input, explain progress and the usage of each answer', async () => {
  assert.ok(gpt4o);
  const folder = mkdtempSync(join(tmpdir(), 'tokenscope-chat-cost-'));
  const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };
  const history = new ChatHistoryStore(join(folder, 'chat-history.json'), 50, quiet);
  const posts: ExtensionToWebview[] = [];
  const recorded: { feature: string; usage: TokenUsage }[] = [];
  const session = new ChatSession({
    post: (message) => posts.push(message),
    history,
    backend: () => new Backend(),
    settings: () => ({ thinking: 'auto', temperature: 0.2, topP: 0.9, maxTokens: 512, historyLimit: 50 }),
    estimateCost: () => undefined,
    referenceModel: () => gpt4o,
    recordUsage: (feature, usage) => recorded.push({ feature, usage: { promptTokens: usage.promptTokens, generatedTokens: usage.generatedTokens } }),
    log: quiet,
    annotate: () => undefined,
    onSaveFailed: () => undefined,
  });
  try {
    await session.measure(1, 'draft', []);
    const info = posts.find((post) => post.type === 'promptInfo');
    assert.equal(info?.type === 'promptInfo' && info.cost, promptCost(100, 512, gpt4o).text);
    await session.send('r1', userMessageFrom('hello', []) ?? assert.fail('a message'));
    await session.explain({ path: 'a.ts', languageId: 'typescript', startLine: 1, text: 'x' }, 'file:///a.ts');
    // The progress line is posted after the turn starts (counting never delays the answer).
    await new Promise((resolve) => setTimeout(resolve, 20));
    const progress = posts.filter((post) => post.type === 'turnProgress');
    assert.equal(progress.length, 1, 'only the explanation has a progress line');
    // The explanation's prompt: the earlier question and answer and the explain request, 3 messages.
    assert.equal(progress[0]?.type === 'turnProgress' && progress[0].text, `Explaining: 300 prompt tokens · ${promptCost(300, 512, gpt4o).text}`);
    const explainStart = posts.find((post) => post.type === 'turnStart' && post.user.explain);
    assert.equal(progress[0]?.type === 'turnProgress' && explainStart?.type === 'turnStart' && progress[0].requestId, explainStart?.type === 'turnStart' ? explainStart.requestId : 'none');
    assert.deepEqual(recorded, [
      { feature: 'chat', usage: { promptTokens: 100, generatedTokens: 3 } },
      { feature: 'explain', usage: { promptTokens: 300, generatedTokens: 3 } },
    ]);
  } finally {
    session.dispose();
    await history.flush().catch(() => undefined);
    rmSync(folder, { recursive: true, force: true });
  }
});
