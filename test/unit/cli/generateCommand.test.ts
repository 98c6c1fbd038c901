import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { UsageError } from '../../../src/cli/command';
import { generateCommand } from '../../../src/cli/generateCommand';
import { fakeIO } from './fakeIO';

const model = join(__dirname, '..', '..', 'fixtures', 'models', 'tiny-qwen2');

interface JsonOutput {
  text: string;
  tokens: { id: number; text: string; logprob: number; top: { id: number; text: string; logprob: number }[] }[];
  timings: { loadMs: number; prefillMs: number; decodeMs: number; promptTokens: number; generatedTokens: number; tokensPerSecond: number };
  finishReason: string;
}

test('generate --json prints text, tokens with logprobs and alternatives, and timings', async () => {
  const { io, stdout } = fakeIO();
  const code = await generateCommand.run(['--model', model, '--prompt', 'hi', '--json', '--max-tokens', '6', '--temperature', '0', '--top-logprobs', '3'], io);
  assert.equal(code, 0);
  const result = JSON.parse(stdout()) as JsonOutput;
  assert.equal(result.tokens.length, result.timings.generatedTokens);
  assert.equal(result.text, result.tokens.map((token) => token.text).join(''));
  for (const token of result.tokens) {
    assert.equal(token.top.length, 3);
    assert.equal(token.top[0].id, token.id);
  }
  for (const key of ['loadMs', 'prefillMs', 'decodeMs', 'promptTokens', 'generatedTokens', 'tokensPerSecond'] as const) assert.equal(typeof result.timings[key], 'number');
  assert.equal(result.timings.promptTokens, 2);
});

test('generate streams text to stdout and timings to stderr; seeds reproduce; prompt from stdin', async () => {
  const run = async (args: string[], stdin?: string) => {
    const { io, stdout, stderr } = fakeIO(stdin);
    assert.equal(await generateCommand.run(['--model', model, '--max-tokens', '8', ...args], io), 0);
    return { out: stdout(), err: stderr() };
  };
  const a = await run(['--prompt', 'def f():', '--temperature', '1', '--seed', '5']);
  const b = await run(['--prompt-file', '-', '--temperature', '1', '--seed', '5'], 'def f():');
  assert.equal(a.out, b.out);
  assert.match(a.err, /prompt tokens, \d+ generated; load \d+ ms, prefill [\d.]+ ms, decode [\d.]+ ms/);
  const chat = await run(['--prompt', 'hello', '--chat', '--variant', 'fp32']);
  assert.match(chat.err, /fp32/);
});

test('generate rejects bad usage with a clear message', async () => {
  const { io } = fakeIO();
  await assert.rejects(generateCommand.run(['--prompt', 'x'], io), UsageError);
  await assert.rejects(generateCommand.run(['--model', model], io), /--prompt or --prompt-file is required/);
  await assert.rejects(generateCommand.run(['--model', model, '--prompt', 'x', '--variant', 'int3'], io), /--variant must be one of/);
  await assert.rejects(generateCommand.run(['--model', model, '--prompt', 'x', '--top-p', '2'], io), /--top-p must be at most 1/);
  await assert.rejects(generateCommand.run(['--model', model, '--prompt', 'x', '--thinking', 'on'], io), /--thinking needs --chat/);
  await assert.rejects(generateCommand.run(['--model', 'no/such/dir', '--prompt', 'x'], io), /does not exist/);
});

test('--max-tokens beyond the model\'s context keeps the prompt and says what was changed', async () => {
  const { io, stdout, stderr } = fakeIO();
  // tiny-qwen2's context is 128 tokens.
  const code = await generateCommand.run(['--model', model, '--prompt', 'def fibonacci(n):', '--max-tokens', '5000', '--temperature', '0', '--json'], io);
  assert.equal(code, 0);
  const result = JSON.parse(stdout()) as JsonOutput & { truncatedPromptTokens: number };
  assert.equal(result.truncatedPromptTokens, 0, 'the prompt was kept whole (it used to be cut to 1 token)');
  const prompt = result.timings.promptTokens;
  assert.ok(prompt > 5);
  assert.ok(result.timings.generatedTokens <= 128 - prompt);
  assert.match(stderr(), new RegExp(`^tokenscope generate: --max-tokens 5000 does not fit: .*tiny-qwen2's context is 128 tokens and the prompt takes ${prompt}, so at most ${128 - prompt} tokens are generated\\.\\n`));
});
