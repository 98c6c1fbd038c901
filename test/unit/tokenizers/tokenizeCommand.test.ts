import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { tokenizeCommand } from '../../../src/cli/tokenizeCommand';
import { UsageError, type CliIO } from '../../../src/cli/command';
import { displayBytes } from '../../../src/core/tokenizers/display';

async function runTokenize(args: string[], input: string): Promise<{ code: number; stdout: string }> {
  const stdout = new PassThrough();
  const chunks: Buffer[] = [];
  stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  const io: CliIO = { stdout, stderr: new PassThrough(), readStdin: async () => input, signal: new AbortController().signal };
  const code = await tokenizeCommand.run(args, io);
  await new Promise((resolve) => setImmediate(resolve)); // let the stream deliver what was written
  return { code, stdout: Buffer.concat(chunks).toString('utf8') };
}

test('tokenize --json prints exactly {tokenizer, count, tokens:[{id,start,end}]} with UTF-16 offsets', async () => {
  const input = 'const x = "😀"; // <|im_end|>\n';
  const { code, stdout } = await runTokenize(['--tokenizer', 'qwen2.5', '--json'], input);
  assert.equal(code, 0);
  const parsed = JSON.parse(stdout) as { tokenizer: string; count: number; tokens: { id: number; start: number; end: number }[] };
  assert.deepEqual(Object.keys(parsed), ['tokenizer', 'count', 'tokens']);
  assert.equal(parsed.tokenizer, 'qwen2.5');
  assert.equal(parsed.count, parsed.tokens.length);
  assert.deepEqual(Object.keys(parsed.tokens[0]), ['id', 'start', 'end']);
  assert.equal(parsed.tokens.map((token) => input.slice(token.start, token.end)).join(''), input);
  assert.ok(!parsed.tokens.some((token) => token.id === 151645), '<|im_end|> stays plain text');
});

test('tokenize without --json shows each token with whitespace made visible', async () => {
  const { stdout } = await runTokenize(['--tokenizer', 'o200k_base'], 'if (a)\n\treturn  b;');
  assert.match(stdout, /^OpenAI o200k_base: \d+ tokens for 18 characters/);
  assert.match(stdout, /↵/);
  assert.match(stdout, /→/);
  assert.match(stdout, /·/);
});

test('tokenize rejects unknown tokenizers and stray arguments with usage errors', async () => {
  await assert.rejects(runTokenize(['--tokenizer', 'gpt-9'], 'x'), (error: Error) => error instanceof UsageError && /unknown tokenizer "gpt-9": use one of mini, qwen2\.5/.test(error.message));
  await assert.rejects(runTokenize([], 'x'), /--tokenizer is required/);
  await assert.rejects(runTokenize(['--tokenizer', 'qwen2.5', 'file.ts'], 'x'), /text comes from standard input/);
  await assert.rejects(runTokenize(['--tokenizer', 'model'], 'x'), /give the model folder instead/);
});

test('token display: whitespace visible, partial UTF-8 bytes escaped', () => {
  assert.deepEqual(displayBytes(new TextEncoder().encode(' \t\n')), { text: '·→↵', byteLength: 3, whitespace: true, partial: false });
  const emoji = new TextEncoder().encode('😀');
  assert.deepEqual(displayBytes(emoji.subarray(0, 2)), { text: '\\xF0\\x9F', byteLength: 2, whitespace: false, partial: true });
  assert.equal(displayBytes(new TextEncoder().encode('a\u0000b\uFEFF')).text, 'a\\u0000b\\uFEFF');
  assert.equal(displayBytes(new TextEncoder().encode('你好')).text, '你好');
});
