import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FairQueue, QueueFullError } from '../../../src/core/openai/fairQueue';
import { inertText, INERT_MARK } from '../../../src/core/completions/fimTemplates';
import { parseChatRequest, parseCompletionRequest, RequestError } from '../../../src/core/openai/serveRequests';
import { choosePromptMode } from '../../../src/core/openai/remoteCompletionBackend';
import { builtinTokenizerForModelName, capabilitiesOf, detectFlavour } from '../../../src/core/openai/server';
import { isLoopbackHost, normalizeBaseUrl } from '../../../src/core/openai/client';

test('the fair queue serves clients round-robin, FIFO within each', async () => {
  const queue = new FairQueue(1);
  const order: string[] = [];
  const first = await queue.acquire('a');
  // Client a sends three requests before b and c send one each.
  const turns = ['a1', 'a2', 'a3', 'b1', 'c1'].map((name) => queue.acquire(name[0]).then((release) => ({ name, release })));
  assert.equal(queue.waiting, 5);
  first();
  for (let index = 0; index < turns.length; index++) {
    const next = await Promise.race(turns.map((turn, at) => turn.then((value) => ({ ...value, at }))).filter(Boolean));
    order.push(next.name);
    turns[next.at] = new Promise(() => undefined);
    next.release();
  }
  assert.deepEqual(order, ['a1', 'b1', 'c1', 'a2', 'a3']);
  assert.equal(queue.active, 0);
});

test('a cancelled waiter leaves the line at once; a full queue answers QueueFullError', async () => {
  const queue = new FairQueue(1, 2);
  const release = await queue.acquire('a');
  const controller = new AbortController();
  const waiting = queue.acquire('b', controller.signal);
  const next = queue.acquire('c');
  await assert.rejects(queue.acquire('d'), QueueFullError);
  controller.abort();
  await assert.rejects(waiting, (error: Error) => error.name === 'AbortError');
  assert.equal(queue.waiting, 1);
  release();
  const granted = await next;
  granted();
  granted();
  assert.equal(queue.active, 0, 'releasing twice counts once');
});

test('control-token spellings in document text are made inert; ordinary text is unchanged', () => {
  const text = 'a <|fim_middle|> b <|im_end|> c <｜fim▁hole｜> <fim_prefix> <PRE> </think> <div>';
  const inert = inertText(text);
  assert.ok(!/<\|fim_middle\|>|<\|im_end\|>|<｜fim▁hole｜>|<fim_prefix>|<PRE>|<\/think>/.test(inert));
  assert.equal(inert.replaceAll(INERT_MARK, ''), text);
  assert.ok(inert.endsWith('<div>'));
  assert.equal(inertText('plain code: if (a < b && c > d) {}'), 'plain code: if (a < b && c > d) {}');
  assert.equal(inertText('x [CUSTOM] y', ['[CUSTOM]']), 'x [CUSTOM] y', 'only `<`-shaped specials are rewritten');
  assert.equal(inertText('x <custom_tok> y', ['<custom_tok>']).replaceAll(INERT_MARK, '|'), 'x <|custom_tok> y');
});

test('serve rejects bad fields with 400 naming the parameter', () => {
  const bad = (fn: () => unknown, param: string) =>
    assert.throws(fn, (error: unknown) => error instanceof RequestError && error.status === 400 && error.param === param);
  bad(() => parseCompletionRequest({ prompt: 'x', max_tokens: 0 }), 'max_tokens');
  bad(() => parseCompletionRequest({ prompt: 'x', temperature: '1' }), 'temperature');
  bad(() => parseCompletionRequest({ prompt: ['a', 'b'] }), 'prompt');
  bad(() => parseCompletionRequest({ prompt: 'x', logprobs: 99 }), 'logprobs');
  bad(() => parseCompletionRequest({ prompt: 'x', n: 2 }), 'n');
  bad(() => parseCompletionRequest({ prompt: 'x', stream_options: { include_usage: true } }), 'stream_options');
  bad(() => parseChatRequest({ messages: [] }), 'messages');
  bad(() => parseChatRequest({ messages: [{ role: 'wizard', content: 'x' }] }), 'messages[0].role');
  bad(() => parseChatRequest({ messages: [{ role: 'user', content: 'x' }], top_logprobs: 3 }), 'top_logprobs');
  const ok = parseCompletionRequest({ prompt: [[1, 2, 3]], max_tokens: 5, stop: '\n', seed: 3, top_p: 0.5, stream: true, stream_options: { include_usage: true }, user: 'ed' });
  assert.deepEqual(ok.prompt, { ids: [1, 2, 3] });
  assert.deepEqual(ok.stop, ['\n']);
  assert.deepEqual(ok.sampling, { topP: 0.5, seed: 3 });
  assert.equal(ok.includeUsage, true);
  const chat = parseChatRequest({ messages: [{ role: 'developer', content: [{ type: 'text', text: 'be brief' }] }, { role: 'user', content: 'hi' }], max_completion_tokens: 9 });
  assert.equal(chat.messages[0].role, 'system');
  assert.equal(chat.messages[0].content, 'be brief');
  assert.equal(chat.maxTokens, 9);
});

test('servers are recognised from /models and the URL; each gets the prompt form it takes', () => {
  const model = (owned_by?: string) => ({ id: 'm', ownedBy: owned_by });
  assert.equal(detectFlavour('http://gpu:8000/v1', [model('vllm')]), 'vllm');
  assert.equal(detectFlavour('http://gpu:8080/v1', [model('llamacpp')]), 'llama.cpp');
  assert.equal(detectFlavour('http://127.0.0.1:11434/v1', [model('library')]), 'ollama');
  assert.equal(detectFlavour('https://api.deepseek.com/v1', [model('deepseek')]), 'deepseek');
  assert.equal(detectFlavour('http://127.0.0.1:1234/v1', [model('organization_owner')]), 'lm-studio');
  assert.equal(detectFlavour('http://x/v1', [model('someone')]), 'unknown');
  assert.equal(choosePromptMode('auto', capabilitiesOf('vllm'), true, true, 'm'), 'token-ids');
  assert.equal(choosePromptMode('auto', capabilitiesOf('vllm'), false, true, 'm'), 'text');
  assert.equal(choosePromptMode('auto', capabilitiesOf('ollama'), true, true, 'm'), 'suffix');
  assert.equal(choosePromptMode('auto', capabilitiesOf('lm-studio'), true, true, 'm'), 'text');
  assert.throws(() => choosePromptMode('auto', capabilitiesOf('lm-studio'), false, false, 'codestral on x'), /does not know this model's fill-in-the-middle format/);
  assert.throws(() => choosePromptMode('token-ids', capabilitiesOf('ollama'), true, true, 'm'), /does not take token-id prompts/);
  // Legacy logprobs: 0 (the chosen tokens only) where the server keeps the chosen logprobs then; 1 elsewhere.
  assert.equal(capabilitiesOf('tokenscope').chosenLogprobsAtZero, true);
  assert.equal(capabilitiesOf('vllm').chosenLogprobsAtZero, false);
  assert.equal(capabilitiesOf('llama.cpp').chosenLogprobsAtZero, false);
  assert.equal(builtinTokenizerForModelName('Qwen/Qwen2.5-Coder-7B-Instruct'), 'qwen2.5');
  assert.equal(builtinTokenizerForModelName('qwen3:8b'), 'qwen2.5');
  assert.equal(builtinTokenizerForModelName('deepseek-ai/DeepSeek-R1-Distill-Qwen-7B'), undefined);
  assert.equal(builtinTokenizerForModelName('meta-llama/Llama-3.1-8B-Instruct'), 'llama3');
  assert.equal(builtinTokenizerForModelName('codellama:7b-code'), undefined);
});

test('base URLs are checked; loopback is recognised', () => {
  assert.equal(normalizeBaseUrl(' http://127.0.0.1:8000/v1/ '), 'http://127.0.0.1:8000/v1');
  assert.throws(() => normalizeBaseUrl('localhost:8000'), /not an http\(s\) URL|not a URL/);
  assert.throws(() => normalizeBaseUrl('ftp://x/v1'), /not an http\(s\) URL/);
  for (const host of ['localhost', '127.0.0.1', '127.1.2.3', '[::1]', 'app.localhost']) assert.ok(isLoopbackHost(host), host);
  for (const host of ['10.0.0.2', 'gpu.internal', '0.0.0.0', 'example.com']) assert.ok(!isLoopbackHost(host), host);
});
