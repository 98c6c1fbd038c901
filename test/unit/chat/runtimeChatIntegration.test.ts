import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer as ReferenceTokenizer } from '@huggingface/tokenizers';
import { ModelProcessClient } from '../../../src/core/modelProcess/client';
import { RuntimeChatBackend, type ChatRuntime } from '../../../src/core/chat/runtimeChatBackend';
import { runChatTurn } from '../../../src/core/chat/chatTurn';
import type { ModelInfo } from '../../../src/core/runtime/types';
import { fixture, repoRoot } from '../runtime/helpers';

// Chat through the real model process with a tiny random-weight Qwen3-layout model: the text is
// noise, but every step is the real one (chat template, encoding, streaming, Stop, counts).
test('chat runs through the real model process: streamed tokens, exact prompt count, Stop', { timeout: 60_000 }, async () => {
  const client = new ModelProcessClient({ entry: join(repoRoot, 'src', 'model-process', 'main.ts'), execArgv: ['--import', 'tsx'], packageRoot: repoRoot, restartDelaysMs: [50] });
  const model = fixture('tiny-qwen3');
  let loading: Promise<ModelInfo> | undefined;
  const runtime: ChatRuntime = {
    get loadedModel() {
      return client.model;
    },
    ensureLoaded: () => (loading ??= client.load({ model, threads: 1 })),
    encodePrompt: (prompt, signal) => client.encodePrompt(prompt, signal),
    generate: (request, signal) => client.generate(request, signal),
  };
  try {
    const backend = new RuntimeChatBackend(model, 'tiny-qwen3', runtime);
    const messages = [{ role: 'user' as const, content: 'Explain L3 of this code.' }];
    const promptTokens = await backend.countPromptTokens(messages, 'off');
    // The reference: tiny-qwen3's chat template (tokenizer_config.json) rendered by hand for one user
    // message, a generation prompt and enable_thinking false, encoded by the Hugging Face tokenizer.
    const readJson = (name: string): object => JSON.parse(readFileSync(join(model, name), 'utf8')) as object;
    const reference = new ReferenceTokenizer(readJson('tokenizer.json'), readJson('tokenizer_config.json'));
    const rendered = '<|im_start|>user\nExplain L3 of this code.<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n';
    assert.equal(promptTokens, reference.encode(rendered).ids.length, 'the count is the chat template\'s encoding length');
    assert.equal(backend.info.canChat, true);
    assert.ok(backend.info.contextWindow > 0);

    let deltas = 0;
    const result = await runChatTurn(backend, { messages, thinking: 'off', temperature: 0, topP: 1, maxTokens: 12 }, new AbortController().signal, { onDelta: () => deltas++ });
    assert.equal(result.stats.promptTokens, promptTokens, 'the start event and the count agree');
    assert.ok(result.stats.generatedTokens > 0 && result.stats.generatedTokens <= 12);
    assert.ok(deltas > 0, 'text streamed');
    assert.ok(['stop', 'length'].includes(result.stopReason));

    const controller = new AbortController();
    const stopped = await runChatTurn(backend, { messages, thinking: 'off', temperature: 0, topP: 1, maxTokens: 400 }, controller.signal, {
      onDelta: () => controller.abort(),
    });
    assert.equal(stopped.stopReason, 'aborted');
    // Stop on the first streamed text: the token in flight may still arrive, nothing more.
    assert.ok(stopped.stats.generatedTokens >= 1 && stopped.stats.generatedTokens <= 2, `${stopped.stats.generatedTokens} tokens after Stop on the first`);
  } finally {
    await client.dispose();
  }
});

test('chat settings beyond what the model takes (topP 0, maxTokens past the context) are fitted to it, and the chat is told', { timeout: 60_000 }, async () => {
  const client = new ModelProcessClient({ entry: join(repoRoot, 'src', 'model-process', 'main.ts'), execArgv: ['--import', 'tsx'], packageRoot: repoRoot });
  const model = fixture('tiny-qwen3');
  const runtime: ChatRuntime = {
    get loadedModel() {
      return client.model;
    },
    ensureLoaded: () => client.load({ model, threads: 1 }),
    encodePrompt: (prompt, signal) => client.encodePrompt(prompt, signal),
    generate: (request, signal) => client.generate(request, signal),
  };
  try {
    const backend = new RuntimeChatBackend(model, 'tiny-qwen3', runtime);
    const messages = [{ role: 'user' as const, content: 'Explain L3 of this code.' }];
    const promptTokens = await backend.countPromptTokens(messages, 'off');
    const notices: string[] = [];
    // Was: "topP must be in (0, 1]" on every message; and 32,768 new tokens left the prompt 1 token.
    const result = await runChatTurn(backend, { messages, thinking: 'off', temperature: 0.7, topP: 0, maxTokens: 32768 }, new AbortController().signal, { onNotice: (text) => notices.push(text) });
    assert.equal(result.stats.promptTokens, promptTokens, 'the whole prompt was used');
    assert.ok(result.stats.generatedTokens > 0 && result.stats.generatedTokens <= 256 - promptTokens);
    assert.deepEqual(notices, [
      'tokenscope.chat.topP is 0, but nucleus sampling needs more than 0 (it is the share of probability to sample from; 1 keeps every token): the smallest nucleus was used, which always picks the most likely token.',
      `tokenscope.chat.maxTokens 32768 does not fit: tiny-qwen3's context is 256 tokens and the prompt takes ${promptTokens}, so at most ${256 - promptTokens} tokens are generated.`,
    ]);
  } finally {
    await client.dispose();
  }
});
