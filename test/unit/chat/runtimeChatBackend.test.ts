import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RuntimeChatBackend, promptOpensThinking, thinkingVariables, type ChatRuntime } from '../../../src/core/chat/runtimeChatBackend';
import { runChatTurn } from '../../../src/core/chat/chatTurn';
import { GenerationAbortedError, type GenerateRequest, type GenerationEvent, type ModelInfo, type PromptInput } from '../../../src/core/runtime/types';

const THINK = 151648;
const END_THINK = 151649;

/** Only the fields chat reads; the rest of ModelInfo grows with the runtime and does not matter here. */
type ChatModelFields = Pick<ModelInfo, 'id' | 'label' | 'contextLength' | 'hasChatTemplate' | 'templateSupportsThinking' | 'specialTokens'>;

function modelInfo(overrides: Partial<ChatModelFields> = {}): ModelInfo {
  const fields: ChatModelFields = {
    id: '/models/r1',
    label: 'DeepSeek-R1-Distill-Qwen-1.5B',
    contextLength: 4096,
    hasChatTemplate: true,
    templateSupportsThinking: true,
    specialTokens: { '<think>': THINK, '</think>': END_THINK },
    ...overrides,
  };
  return fields as ModelInfo;
}

/** A runtime that streams the given token texts, recording what it was asked. */
function fakeRuntime(info: ModelInfo, promptIds: number[], tokens: string[], options: { abortAfter?: number } = {}) {
  const calls: { encoded: PromptInput[]; generated: GenerateRequest[] } = { encoded: [], generated: [] };
  const runtime: ChatRuntime = {
    loadedModel: info,
    ensureLoaded: async () => info,
    encodePrompt: async (prompt) => {
      calls.encoded.push(prompt);
      return promptIds;
    },
    generate: (request, signal) => {
      calls.generated.push(request);
      return (async function* (): AsyncGenerator<GenerationEvent> {
        yield { type: 'start', promptTokens: promptIds.length, reusedTokens: 0, truncatedTokens: 0, maxTokens: request.maxTokens ?? 256, seed: 1 };
        let index = 0;
        for (const text of tokens) {
          if (signal?.aborted) throw new GenerationAbortedError();
          yield { type: 'token', index, id: 1000 + index, text, logprob: -0.1, top: [] };
          index++;
          if (options.abortAfter === index) await new Promise((resolve) => setTimeout(resolve, 5));
        }
        yield { type: 'end', finishReason: 'eos', text: tokens.join(''), timings: { prefillMs: 1, decodeMs: 1, promptTokens: promptIds.length, prefilledTokens: promptIds.length, generatedTokens: tokens.length, tokensPerSecond: 1 } };
      })();
    },
  };
  return { runtime, calls };
}

const request = { messages: [{ role: 'user' as const, content: 'Explain L3' }], thinking: 'on' as const, temperature: 0.6, topP: 0.95, maxTokens: 64 };

test('promptOpensThinking: R1 prompt ending in <think>\\n, Qwen3 closed empty trace, no think token', () => {
  const special = { '<think>': THINK, '</think>': END_THINK };
  assert.equal(promptOpensThinking([1, 2, THINK, 198], special), true);
  assert.equal(promptOpensThinking([1, THINK, 271, END_THINK, 271], special), false);
  assert.equal(promptOpensThinking([THINK, 5, 6, 7, 8], special), false);
  assert.equal(promptOpensThinking([1, 2, 3], {}), false);
  assert.deepEqual(thinkingVariables('off'), { enable_thinking: false });
  assert.deepEqual(thinkingVariables('auto'), {});
});

test('runtime backend: R1 tokens stream through the parser with the trace detected from the prompt', async () => {
  const { runtime, calls } = fakeRuntime(modelInfo(), [1, 2, THINK, 198], ['L3 keeps', ' it', '.\n', '</think>', '\n\n', 'It ', '', 'retries.']);
  const backend = new RuntimeChatBackend('/models/r1', 'r1', runtime);
  const result = await runChatTurn(backend, request, new AbortController().signal);
  assert.equal(result.thinking?.text, 'L3 keeps it.');
  assert.equal(result.answer, 'It retries.');
  assert.equal(result.stats.promptTokens, 4);
  assert.equal(result.stats.generatedTokens, 8);
  assert.equal(result.stopReason, 'stop');
  assert.deepEqual(calls.generated[0]?.prompt, { kind: 'chat', messages: [{ role: 'user', content: 'Explain L3' }], addGenerationPrompt: true, variables: { enable_thinking: true } });
  assert.deepEqual(calls.generated[0]?.sampling, { temperature: 0.6, topP: 0.95 });
  assert.equal(calls.generated[0]?.maxTokens, 64);
  assert.deepEqual(backend.info, { label: 'r1', canChat: true, supportsThinking: true, contextWindow: 4096 });
});

test('runtime backend: Stop ends the stream as aborted with the text so far', async () => {
  const { runtime } = fakeRuntime(modelInfo(), [1], ['Hello', ' there', ' friend', ' more'], { abortAfter: 2 });
  const backend = new RuntimeChatBackend('/models/r1', 'r1', runtime);
  const controller = new AbortController();
  let seen = 0;
  const result = await runChatTurn(backend, { ...request, thinking: 'off' }, controller.signal, {
    onDelta: () => {
      if (++seen === 2) controller.abort();
    },
  });
  assert.equal(result.stopReason, 'aborted');
  assert.equal(result.answer, 'Hello there');
});

test('runtime backend: a model without a chat template cannot chat, and says why', async () => {
  const info = modelInfo({ id: '/models/base', label: 'Qwen2.5-Coder-0.5B', hasChatTemplate: false });
  const { runtime } = fakeRuntime(info, [1], ['x']);
  const backend = new RuntimeChatBackend('/models/base', 'Qwen2.5-Coder-0.5B', runtime);
  assert.equal(backend.info.canChat, false);
  assert.match(backend.info.notice ?? '', /no chat template.*Choose an instruct or chat model/);
  await assert.rejects(runChatTurn(backend, request, new AbortController().signal), /no chat template/);
});

test('runtime backend: before the model loads, only its name is known; counts load it', async () => {
  const info = modelInfo();
  const { runtime } = fakeRuntime(info, [1, 2, 3], []);
  const notLoaded: ChatRuntime = { ...runtime, loadedModel: undefined };
  const backend = new RuntimeChatBackend('/models/r1', 'r1 (folder)', notLoaded);
  assert.deepEqual(backend.info, { label: 'r1 (folder)', canChat: true, supportsThinking: false, contextWindow: 0 });
  assert.equal(await backend.countPromptTokens(request.messages, 'auto'), 3);
  assert.equal(await backend.countTokens('abc'), 3);
});
