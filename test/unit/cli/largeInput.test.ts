// Bad input must never crash the CLI: huge inputs, pathological ones (150,000 NUL bytes), invalid
// UTF-8. `tokenize --json` streams its output, so 16 MB of input runs in bounded memory: the test
// gives the CLI a 192 MB heap. The streamed CLI passes at 128 MB; building the whole JSON in one
// string runs out of memory at 192 MB and at 256 MB (checked by swapping the loop for one
// JSON.stringify), and at 50 MB it reached 3.2 GB and failed with "Invalid string length". 16 MB
// keeps that margin at a fifth of the 50 MB run's time (10 s against 47 s).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { tokenizeCommand } from '../../../src/cli/tokenizeCommand';
import type { CliIO } from '../../../src/cli/command';

const repoRoot = join(__dirname, '..', '..', '..');

async function runTokenize(args: string[], input: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (chunk: Buffer) => out.push(chunk));
  stderr.on('data', (chunk: Buffer) => err.push(chunk));
  const io: CliIO = { stdout, stderr, readStdin: async () => input, signal: new AbortController().signal };
  const code = await tokenizeCommand.run(args, io);
  await new Promise((resolve) => setImmediate(resolve));
  return { code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

test('tokenize on 150,000 NUL bytes works, as a table and as JSON (was: Maximum call stack size exceeded)', async () => {
  const input = '\u0000'.repeat(150_000);
  for (const tokenizer of ['qwen2.5', 'o200k_base']) {
    const json = await runTokenize(['--tokenizer', tokenizer, '--json'], input);
    assert.equal(json.code, 0);
    const parsed = JSON.parse(json.stdout) as { count: number; tokens: { start: number; end: number }[] };
    assert.equal(parsed.count, parsed.tokens.length);
    assert.equal(parsed.tokens.at(-1)?.end, input.length);
    const table = await runTokenize(['--tokenizer', tokenizer], input);
    assert.equal(table.code, 0);
    assert.match(table.stdout, new RegExp(`^\\S.*: ${parsed.count} tokens for 150000 characters`));
    assert.equal(table.stdout.trimEnd().split('\n').length, parsed.count + 2, 'a header, a column line and one row per token');
  }
});

test('tokenize --json on 16 MB streams in bounded memory (192 MB heap) and its output is whole', { timeout: 300_000 }, () => {
  const result = spawnSync(process.execPath, ['--import', 'tsx', join('test', 'unit', 'cli', 'largeInputProbe.ts'), 'o200k_base', '16', '192'], { cwd: repoRoot, encoding: 'utf8', timeout: 280_000 });
  assert.equal(result.status, 0, result.stderr);
  const report = JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as { code: number; stderr: string; inputChars: number; tokens: number; count: number; tiled: boolean; coversInput: boolean; endsWell: boolean; outputMB: number; seconds: number };
  assert.equal(report.code, 0, `the CLI failed: ${report.stderr}`);
  assert.equal(report.inputChars, 16 * 1024 * 1024);
  assert.ok(report.tokens > 1_000_000, `${report.tokens} tokens`);
  assert.equal(report.count, report.tokens, '"count" equals the tokens written');
  assert.ok(report.tiled && report.coversInput, 'the tokens tile the whole input');
  assert.ok(report.endsWell, 'the JSON is closed');
  process.stdout.write(`# 16 MB: ${report.tokens} tokens, ${report.outputMB} MB of JSON in ${report.seconds} s\n`);
});

test('no call spreads an array into arguments in src/ or media/ (a long one overflows the call stack)', () => {
  const { readdirSync, readFileSync, statSync } = require('node:fs') as typeof import('node:fs');
  const files = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? files(path) : /\.ts$/.test(name) ? [path] : [];
    });
  // A spread given as an argument (after `(` or `,`), not one inside an object or array literal.
  const spreadCall = /\b(?:Math\.(?:max|min)|\.push|\.unshift|\.splice|String\.fromCharCode|String\.fromCodePoint|\.concat|Reflect\.apply|\.apply)\((?:(?:[^;()]|\([^;()]*\))*?,)?\s*\.\.\./;
  const offenders = ['src', 'media'].flatMap((dir) => files(join(repoRoot, dir))).flatMap((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .map((line, index) => ({ line, index }))
      .filter(({ line }) => spreadCall.test(line) && !/^\s*(\/\/|\*)/.test(line))
      .map(({ line, index }) => `${file.slice(repoRoot.length + 1)}:${index + 1}: ${line.trim()}`),
  );
  assert.deepEqual(offenders, []);
  // The check itself catches the forms that crashed.
  for (const line of ['const w = Math.max(2, ...spans.map((s) => s.id));', 'ids.push(...prefixIds);', 'this.lines.splice(at, 1, ...pieces);', 'Math.max(0, ...(code.match(/`+/g) ?? []).map((run) => run.length))']) assert.match(line, spreadCall);
  assert.doesNotMatch('const all = [...a, ...b];', spreadCall);
  assert.doesNotMatch('citations.push({ ...cited, index });', spreadCall);
});

test('helpers that used such spreads take 200,000 items', async () => {
  const { fenceFor } = await import('../../../src/core/chat/explainPrompt');
  const { longestBacktickRun } = await import('../../../src/core/backticks');
  const { TextLines } = await import('../../../src/core/completions/document');
  const { formatTable } = await import('../../../src/cli/table');
  assert.equal(fenceFor('`a'.repeat(200_000)), '```');
  assert.equal(fenceFor(`${'x`'.repeat(200_000)}x\`\`\`\`\``), '``````');
  assert.equal(longestBacktickRun('a ``` b ` c'), 3);
  const lines = new TextLines('first\nlast');
  lines.insert({ line: 0, character: 5 }, '\nx'.repeat(200_000));
  assert.equal(lines.lineCount, 200_002);
  assert.equal(lines.lineText(200_001), 'last');
  const rows = Array.from({ length: 200_000 }, (_, index) => [String(index)]);
  assert.equal(formatTable(['n'], rows, new Set([0]))[0], '     n');
});
