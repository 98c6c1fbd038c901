// Wire-format fixtures of real servers (vLLM, llama.cpp server, Ollama's /v1, the DeepSeek API),
// written from the shapes their serializers produce; each fixture cites the source files it follows.
// A scripted server replays them; the remote backends must turn each into the same thing the local
// runtime gives: thinking apart from the answer, usage, logprobs as confidence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runChatTurn } from '../../../src/core/chat/chatTurn';
import { TextLines } from '../../../src/core/completions/document';
import { CompletionEngine } from '../../../src/core/completions/engine';
import { remoteCompletionModel } from '../../../src/core/openai/remoteCompletionBackend';
import { RemoteChatBackend } from '../../../src/core/openai/remoteChatBackend';
import { ServerConnection } from '../../../src/core/openai/server';
import { TokenizerRegistry } from '../../../src/core/tokenizers/registry';
import { startScriptedServer } from './scriptedServer';

interface Fixture {
  readonly sources: readonly string[];
  readonly models: unknown;
  readonly stream: readonly string[];
  readonly expect: Record<string, unknown>;
}

const load = (name: string): Fixture => JSON.parse(readFileSync(join(__dirname, 'fixtures', name), 'utf8')) as Fixture;
const repoRoot = join(__dirname, '..', '..', '..');
const tokenizers = new TokenizerRegistry({ rootDir: repoRoot });

async function replay(fixture: Fixture) {
  return startScriptedServer((req, res) => {
    if (req.url?.endsWith('/models')) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(fixture.models));
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/event-stream' });
    for (const line of fixture.stream) res.write(`${line}\n\n`);
    res.end();
  });
}

for (const name of ['vllm-chat-reasoning.json', 'llamacpp-chat-reasoning.json', 'ollama-chat-reasoning.json', 'deepseek-reasoner.json']) {
  test(`chat fixture ${name}: reasoning into the Thinking block, usage and logprobs into the stats`, async () => {
    const fixture = load(name);
    assert.ok(fixture.sources.length > 0, 'every fixture cites its source');
    const server = await replay(fixture);
    try {
      const connection = new ServerConnection({ baseUrl: server.baseUrl });
      const modelId = (fixture.models as { data: { id: string }[] }).data.at(-1)!.id;
      const backend = new RemoteChatBackend({ connection, model: modelId });
      const result = await runChatTurn(backend, { messages: [{ role: 'user', content: 'hello' }], thinking: 'auto', temperature: 0.6, topP: 0.95, maxTokens: 64 }, new AbortController().signal);
      const expect = fixture.expect;
      assert.equal(result.thinking?.text, expect.thinking);
      assert.equal(result.thinking?.complete, true);
      assert.equal(result.answer, expect.answer);
      assert.equal(result.stats.promptTokens, expect.promptTokens);
      assert.equal(result.stats.generatedTokens, expect.generatedTokens);
      if (expect.reasoningTokens !== undefined) assert.equal(result.thinking?.tokens, expect.reasoningTokens, "the server's reasoning_tokens");
      if (typeof expect.meanLogprob === 'number') assert.ok(Math.abs(result.stats.confidence! - Math.exp(expect.meanLogprob)) < 1e-9);
      else assert.equal(result.stats.confidence, undefined);
      // Each token the server scored reaches the chat's probability view, with its alternatives, in order.
      const wire = fixture.stream
        .filter((line) => line.startsWith('data: {'))
        .flatMap((line) => (JSON.parse(line.slice(6)) as { choices?: { logprobs?: { content?: { token: string; logprob: number; top_logprobs?: { token: string; logprob: number }[] }[] } }[] }).choices?.[0]?.logprobs?.content ?? []);
      assert.deepEqual(
        result.probabilities ?? [],
        wire.map((entry) => ({ text: entry.token, logprob: entry.logprob, top: (entry.top_logprobs ?? []).map((alternative) => ({ text: alternative.token, logprob: alternative.logprob })) })),
      );
      assert.equal(wire.length > 0, typeof expect.meanLogprob === 'number');
      assert.equal(await connection.flavour(), expect.flavour);
      if (expect.contextLength !== undefined) assert.equal(backend.info.contextWindow, expect.contextLength);
      // What was asked: streaming with usage; logprobs only where the server takes them (not DeepSeek's reasoner).
      const body = JSON.parse(server.requests.find((request) => request.path.endsWith('/chat/completions'))!.body) as Record<string, unknown>;
      assert.equal(body.stream, true);
      assert.deepEqual(body.stream_options, { include_usage: true });
      assert.equal(body.logprobs, expect.flavour === 'deepseek' ? undefined : true);
    } finally {
      await server.close();
    }
  });
}

for (const name of ['vllm-completion.json', 'llamacpp-completion.json', 'ollama-completion-suffix.json']) {
  test(`completion fixture ${name}: prompt as the server takes it, text, usage and confidence`, { timeout: 60_000 }, async () => {
    const fixture = load(name);
    const server = await replay(fixture);
    try {
      const connection = new ServerConnection({ baseUrl: server.baseUrl, tokenizers });
      const modelId = (fixture.models as { data: { id: string }[] }).data[0].id;
      const model = await remoteCompletionModel({ connection, model: modelId });
      const expect = fixture.expect;
      assert.equal(model.mode, expect.mode);
      assert.equal(model.flavour, expect.flavour);
      const engine = new CompletionEngine({ getModel: () => model, settings: { extraContext: false, speculative: false, debounceMs: 0 } });
      const document = new TextLines('def add(a, b):\n    \n\nprint(add(1, 2))\n');
      const result = await engine.complete({ document, position: { line: 1, character: 4 }, path: 'add.py', trigger: 'explicit' });
      assert.ok(result, 'a suggestion');
      assert.equal(result.text, expect.text);
      assert.equal(result.promptTokens, expect.promptTokens);
      if (typeof expect.logprobSum === 'number') {
        assert.equal(result.generatedTokens, expect.tokens);
        assert.ok(Math.abs(result.confidence! - Math.exp((expect.logprobSum as number) / (expect.tokens as number))) < 1e-9);
      } else {
        assert.equal(result.confidence, undefined);
        assert.match(result.noConfidence ?? '', /sent no token probabilities \(logprobs\)/);
      }
      const body = JSON.parse(server.requests.find((request) => request.path.endsWith('/completions'))!.body) as Record<string, unknown>;
      if (expect.mode === 'token-ids') {
        assert.ok(Array.isArray(body.prompt) && (body.prompt as unknown[]).every((id) => Number.isInteger(id)), 'token ids');
        assert.equal(body.stop_token_ids !== undefined, expect.flavour === 'vllm');
      } else {
        assert.equal(typeof body.prompt, 'string');
        assert.equal(body.suffix, '\n\nprint(add(1, 2))\n');
        assert.equal(body.prompt, 'def add(a, b):\n    ');
      }
      assert.equal(body.logprobs, 1);
      assert.equal(body.temperature, 0);
    } finally {
      await server.close();
    }
  });
}
