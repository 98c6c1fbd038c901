import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { costCommand } from '../../../src/cli/costCommand';
import { fakeIO } from '../cli/fakeIO';
import { PRICED_MODELS } from '../../../src/core/pricing/prices';

async function runCost(args: string[], input: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const run = fakeIO(input);
  const code = await costCommand.run(args, run.io);
  await new Promise((resolve) => setImmediate(resolve)); // let the streams deliver what was written
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

interface CostRow {
  id: string;
  tokenizer: string;
  tokens: number;
  inputUSD: number;
  inputPerMTok: number;
  asOf: string;
}

test('cost --json prices the input on every model with its own tokenizer and the asOf date', async () => {
  const input = 'function add(a: number, b: number): number {\n        return a + b; // 这是一个很长的中文注释，用来比较不同的分词器\n}\n';
  const { code, stdout } = await runCost(['--json'], input);
  assert.equal(code, 0);
  const parsed = JSON.parse(stdout) as { characters: number; models: CostRow[] };
  assert.equal(parsed.characters, input.length);
  assert.equal(parsed.models.length, PRICED_MODELS.length);
  for (const row of parsed.models) {
    assert.ok(row.tokens > 10 && row.tokens < input.length, `${row.id}: ${row.tokens} tokens`);
    assert.ok(Math.abs(row.inputUSD - (row.tokens * row.inputPerMTok) / 1e6) < 1e-15);
    assert.match(row.asOf, /^\d{4}-\d{2}-\d{2}$/);
  }
  const byTokenizer = (tokenizer: string) => new Set(parsed.models.filter((row) => row.tokenizer === tokenizer).map((row) => row.tokens));
  assert.equal(byTokenizer('o200k_base').size, 1, 'one count per tokenizer');
  // Different tokenizers count the same text differently.
  assert.equal(new Set(parsed.models.map((row) => row.tokens)).size, 5, 'five tokenizers, five counts on code with Chinese comments');
});

test('cost without --json prints a table with the dates; custom models are applied and bad ones reported', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokenscope-cost-'));
  const file = join(dir, 'models.json');
  writeFileSync(file, JSON.stringify([{ id: 'team-llm', label: 'Team LLM', tokenizer: 'llama3', inputPerMTok: 1, outputPerMTok: 1 }, { id: 'broken' }]));
  const { stdout, stderr } = await runCost(['--custom-models', file], 'hello world');
  assert.match(stdout, /cost of sending them as input/);
  assert.match(stdout, /GPT-4o\s+o200k_base\s+2\s+\$0\.000005\s+2\.5\s+10\s+<0\.01%\s+2024-10-01/);
  assert.match(stdout, /Team LLM\s+llama3\s+2\s+\$0\.000002/);
  assert.match(stdout, /Claude Sonnet 4\.5\s+claude\s+~\d/);
  assert.match(stderr, /customModels\[1\] \("broken"\): "inputPerMTok" is required/);
});
