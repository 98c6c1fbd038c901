import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../../src/cli/command';
import { nextCommand } from '../../../src/cli/nextCommand';
import { surpriseCommand } from '../../../src/cli/surpriseCommand';
import { LocalModel } from '../../../src/core/runtime/localModel';
import { repoRoot, tempDir } from '../runtime/helpers';
import { fakeIO } from './fakeIO';

interface NextJson {
  tokens: { id: number; text: string; logprob: number; probability: number; excluded: boolean }[];
  temperature: number;
  topP: number;
  topK: number;
  other: number;
  sampled?: { id: number; text: string; seed: number };
}

interface SurpriseJson {
  tokens: { id: number; start: number; end: number; logprob: number; top: { id: number; text: string; logprob: number }[] }[];
}

async function runJson<T>(command: typeof nextCommand, args: string[]): Promise<T> {
  const { io, stdout } = fakeIO();
  assert.equal(await command.run([...args, '--json', '--threads', '1'], io), 0);
  return JSON.parse(stdout()) as T;
}

test('next --json: the issue\'s shape, re-shaped probabilities with excluded tokens, shown + other = 1, same at a file position', async () => {
  const scratch = tempDir();
  try {
    const prompt = 'function add(a, b) {\n  return';
    const plain = await runJson<NextJson>(nextCommand, ['--prompt', prompt, '--top', '12']);
    assert.deepEqual(Object.keys(plain).sort(), ['other', 'temperature', 'tokens', 'topK', 'topP']);
    assert.equal(plain.tokens.length, 12);
    for (const token of plain.tokens) assert.deepEqual(Object.keys(token), ['id', 'text', 'logprob', 'probability', 'excluded']);
    assert.deepEqual([plain.temperature, plain.topP, plain.topK], [1, 1, 0]);
    // Temperature 1, nothing cut: probability is the model's own.
    for (const token of plain.tokens) assert.ok(Math.abs(token.probability - Math.exp(token.logprob)) < 1e-5);
    const sum = (result: NextJson) => result.tokens.reduce((total, token) => total + token.probability, 0) + result.other;
    assert.ok(Math.abs(sum(plain) - 1) < 1e-5);

    const cut = await runJson<NextJson>(nextCommand, ['--prompt', prompt, '--top', '12', '--temperature', '0.5', '--top-k', '4', '--seed', '9']);
    assert.deepEqual(
      cut.tokens.map((token) => token.excluded),
      cut.tokens.map((_, i) => i >= 4),
    );
    assert.ok(cut.tokens.slice(4).every((token) => token.probability === 0));
    assert.ok(Math.abs(sum(cut) - 1) < 1e-5);
    assert.equal(cut.other, 0);
    assert.ok(cut.tokens[0].probability > plain.tokens[0].probability, 'a lower temperature sharpens');
    assert.equal(cut.sampled?.seed, 9);
    assert.ok(cut.tokens.slice(0, 4).some((token) => token.id === cut.sampled!.id), 'the sample is one of the kept tokens');

    const file = join(scratch.dir, 'add.js');
    writeFileSync(file, `${prompt} a + b;\n}\n`);
    const atCursor = await runJson<NextJson>(nextCommand, ['--file', file, '--line', '1', '--character', '8', '--top', '12']);
    assert.deepEqual(atCursor, plain);
  } finally {
    scratch.cleanup();
  }
});

test('surprise --json: UTF-16 offsets into the file, ln p from a direct forward pass, the typo stands out; an empty file', async () => {
  const scratch = tempDir();
  const model = await LocalModel.load({ model: 'mini', threads: 1 }, { packageRoot: repoRoot });
  try {
    const text = 'const greeting = "héllo 😀";\nfunction add(a, b) {\n  retrun a + b;\n}\n';
    const file = join(scratch.dir, 'typo.js');
    writeFileSync(file, text);
    const result = await runJson<SurpriseJson>(surpriseCommand, ['--file', file, '--top', '2']);
    const ids = model.tokenizer.encode(text);
    assert.equal(result.tokens.length, ids.length - 1);
    for (const token of result.tokens) {
      assert.deepEqual(Object.keys(token), ['id', 'start', 'end', 'logprob', 'top']);
      assert.equal(token.top.length, 2);
      for (const alt of token.top) assert.deepEqual(Object.keys(alt), ['id', 'text', 'logprob']);
    }
    assert.equal(result.tokens.at(-1)!.end, text.length, 'UTF-16 offsets end at the text length');
    // Offsets: the scored spans, after the first token, cover the rest of the text in order.
    assert.equal(text.slice(result.tokens[0].start), result.tokens.map((token) => text.slice(token.start, token.end)).join(''));
    for (const index of [1, 5, ids.length - 1]) {
      const logits = await model.nextTokenLogits(ids.slice(0, index), { reuseCache: false });
      let max = -Infinity;
      for (const value of logits) max = Math.max(max, value);
      let total = 0;
      for (const value of logits) total += Math.exp(value - max);
      const direct = logits[ids[index]] - max - Math.log(total);
      assert.ok(Math.abs(result.tokens[index - 1].logprob - direct) < 1e-4, `token ${index}`);
    }
    const typoStart = text.indexOf('retrun');
    const worst = result.tokens.reduce((a, b) => (b.logprob < a.logprob ? b : a));
    const typoWorst = Math.min(...result.tokens.filter((token) => token.end > typoStart && token.start < typoStart + 6).map((token) => token.logprob));
    assert.ok(typoWorst < -8, `the typo costs more than 8 bits/ln2: ${typoWorst}`);
    assert.ok(worst.logprob <= typoWorst);

    // --max-chars: only the start of a long file is scored, and stderr says so.
    const long = join(scratch.dir, 'long.js');
    writeFileSync(long, 'x = 1;\n'.repeat(2000));
    const { io: longIo, stdout: longOut, stderr: longErr } = fakeIO();
    assert.equal(await surpriseCommand.run(['--file', long, '--max-chars', '70', '--json', '--threads', '1'], longIo), 0);
    const cut = JSON.parse(longOut()) as SurpriseJson;
    assert.ok(cut.tokens.length > 0 && cut.tokens.every((token) => token.end <= 70));
    assert.match(longErr(), /scoring the first 70 of 14,000 characters/);
    const empty = join(scratch.dir, 'empty.js');
    writeFileSync(empty, '');
    assert.deepEqual(await runJson<SurpriseJson>(surpriseCommand, ['--file', empty]), { tokens: [] });
  } finally {
    await model.dispose();
    scratch.cleanup();
  }
});

test('next and surprise refuse bad usage with the reason', async () => {
  const { io } = fakeIO();
  await assert.rejects(nextCommand.run([], io), UsageError);
  await assert.rejects(nextCommand.run(['--prompt', 'x', '--file', 'y'], io), /give --prompt P, or --file F/);
  await assert.rejects(nextCommand.run(['--prompt', 'x', '--top-p', '0'], io), /--top-p must be at least/);
  await assert.rejects(nextCommand.run(['--prompt', 'x', '--server', 'http://127.0.0.1:1/v1', '--seed', '3'], io), /--seed draws from the full distribution/);
  await assert.rejects(surpriseCommand.run(['--file', 'x', '--server', 'http://127.0.0.1:1/v1'], io), /not supported/);
  await assert.rejects(nextCommand.run(['--prompt', ''], io), /empty/);
  await assert.rejects(surpriseCommand.run([], io), /--file is required/);
});
