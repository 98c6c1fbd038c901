import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { completeCommand } from '../../../src/cli/completeCommand';
import { TextLines } from '../../../src/core/completions/document';
import { CompletionEngine } from '../../../src/core/completions/engine';
import { inProcessCompletionModel } from '../../../src/core/completions/model';
import { LocalModel } from '../../../src/core/runtime/localModel';
import { UsageError } from '../../../src/cli/command';
import { fakeIO } from '../cli/fakeIO';

const dir = mkdtempSync(join(tmpdir(), 'tokenscope-complete-'));
const file = join(dir, 'sample.py');
writeFileSync(file, 'def add(a, b):\n    return a + b\n\ndef sub(a, b):\n    \n');
// The committed random-weight test model with Qwen2.5-Coder FIM tokens: its text is noise, the path is real.
const model = 'test/fixtures/models/tiny-qwen2';

test('tokenscope complete --json runs the completion core end to end', async () => {
  const run = fakeIO();
  const code = await completeCommand.run(['--model', model, '--file', file, '--line', '4', '--character', '4', '--json', '--max-tokens', '8'], run.io);
  assert.equal(code, 0, run.stderr());
  const output = JSON.parse(run.stdout()) as Record<string, unknown>;
  assert.deepEqual(Object.keys(output), ['completion', 'latencyMs', 'promptTokens', 'generatedTokens', 'template', 'confidence']);
  assert.equal(output.template, 'Qwen2.5-Coder FIM');
  assert.equal(typeof output.completion, 'string');
  assert.ok((output.promptTokens as number) > 10);
  assert.ok((output.generatedTokens as number) >= 1 && (output.generatedTokens as number) <= 8);
  assert.ok((output.latencyMs as number) > 0);
  // Null only when post-processing left nothing to suggest; else a probability.
  const confidence = output.confidence as number | null;
  assert.ok(confidence === null || (confidence > 0 && confidence <= 1), `confidence ${confidence}`);
});

test('at temperature 0 the CLI completes what the in-process engine completes (the shipped model, real text)', async () => {
  const source = 'def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return \n';
  const path = join(dir, 'mul.py');
  writeFileSync(path, source);
  const position = { line: 5, character: 11 };
  const json = fakeIO();
  assert.equal(await completeCommand.run(['--model', 'mini', '--file', path, '--line', String(position.line), '--character', String(position.character), '--json', '--max-tokens', '16'], json.io), 0, json.stderr());
  const cli = JSON.parse(json.stdout()) as { completion: string; promptTokens: number; generatedTokens: number; confidence: number | null };
  const plain = fakeIO();
  assert.equal(await completeCommand.run(['--model', 'mini', '--file', path, '--line', String(position.line), '--character', String(position.character), '--max-tokens', '16'], plain.io), 0);

  const local = await LocalModel.load({ model: 'mini' }, { packageRoot: join(__dirname, '..', '..', '..'), cwd: process.cwd() });
  try {
    const model = inProcessCompletionModel(local);
    const engine = new CompletionEngine({ getModel: () => model, settings: { maxTokens: 16, extraContext: false, speculative: false } });
    const document = new TextLines(source);
    const expected = await engine.complete({ document, position, path: relative(process.cwd(), path), trigger: 'explicit' });
    assert.ok(expected && expected.text.length > 0, 'the shipped model suggests something after `return `');
    assert.equal(cli.completion, expected.text);
    assert.equal(cli.promptTokens, expected.promptTokens);
    assert.equal(cli.generatedTokens, expected.generatedTokens);
    assert.equal(cli.confidence, Math.round(expected.confidence! * 1000) / 1000);
    assert.equal(plain.stdout(), `${expected.text}\n`, 'without --json: the completion alone on stdout');
    assert.match(plain.stderr(), new RegExp(`^\\(${expected.generatedTokens} tokens in [0-9.]+ ms, prompt ${expected.promptTokens} tokens, ${expected.template.replace(/[()]/g, '\\$&')}, ${Math.round(cli.confidence! * 100)}% sure\\)\\n$`));
  } finally {
    await local.dispose();
  }
});

test('tokenscope complete explains bad positions and missing flags', async () => {
  await assert.rejects(completeCommand.run(['--model', model, '--file', file, '--line', '9', '--character', '0'], fakeIO().io), (error: unknown) => error instanceof UsageError && /line 9 is outside the document \(0-based, valid 0\.\.5\)/.test(error.message));
  await assert.rejects(completeCommand.run(['--model', model, '--file', file, '--line', '0', '--character', '40'], fakeIO().io), /character 40 is outside line 0/);
  await assert.rejects(completeCommand.run(['--file', file, '--line', '0', '--character', '0'], fakeIO().io), /--model is required/);
  await assert.rejects(completeCommand.run(['--model', model, '--file', join(dir, 'missing.py'), '--line', '0', '--character', '0'], fakeIO().io), /cannot read .*missing\.py: no such file/);
});
