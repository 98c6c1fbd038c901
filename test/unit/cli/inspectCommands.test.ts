import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../../src/cli/command';
import { attentionCommand, lensCommand, neighboursCommand } from '../../../src/cli/inspectCommands';
import { tempDir } from '../runtime/helpers';
import { fakeIO } from './fakeIO';

const model = join(__dirname, '..', '..', 'fixtures', 'models', 'tiny-qwen2');
const SOURCE = 'function add(a, b) {\r\n  return a + b;\r\n}\r\nconst total = add(1, 2);\r\n';

test('attention --json: {layers, heads, tokens: [{id, start, end}], weights} for the token at the position, one row that sums to 1 with nothing on later tokens', async () => {
  const scratch = tempDir();
  try {
    const file = join(scratch.dir, 'a.ts');
    writeFileSync(file, SOURCE);
    for (const flags of [['--layer', '2', '--head', '3'], ['--layer', '1'], []]) {
      const { io, stdout } = fakeIO();
      assert.equal(await attentionCommand.run(['--model', model, '--file', file, '--line', '1', '--character', '4', ...flags, '--json'], io), 0);
      const result = JSON.parse(stdout()) as { layers: number; heads: number; layer: number | string; head: number | string; position: number; tokens: { id: number; start: number; end: number }[]; weights: number[] };
      assert.deepEqual(Object.keys(result), ['layers', 'heads', 'layer', 'head', 'position', 'tokens', 'weights']);
      assert.equal(result.layers, 2);
      assert.equal(result.heads, 4);
      assert.equal(result.layer, flags.length > 0 ? Number(flags[1]) : 'mean');
      const offset = SOURCE.indexOf('return') + 2;
      const cursor = result.tokens[result.position];
      assert.ok(cursor.start <= offset && offset < cursor.end, 'offsets are in the file (CRLF lines included)');
      assert.equal(result.weights.length, result.tokens.length);
      assert.ok(Math.abs(result.weights.reduce((a, b) => a + b, 0) - 1) < 1e-4);
      assert.ok(result.weights.slice(result.position + 1).every((weight) => weight === 0));
    }
    await assert.rejects(attentionCommand.run(['--model', model, '--file', file, '--line', '9', '--character', '0'], fakeIO().io), UsageError);
    await assert.rejects(attentionCommand.run(['--model', model, '--file', file, '--line', '0', '--character', '0', '--head', '1'], fakeIO().io), UsageError);
  } finally {
    scratch.cleanup();
  }
});

test('lens --json with the built-in model (the default): {layers: [{layer, tokens: [{id, text, probability}]}]} from layer 1 to the output', async () => {
  const { io, stdout } = fakeIO();
  assert.equal(await lensCommand.run(['--prompt', 'function add(a, b) {\n  return a +', '--top', '3', '--json'], io), 0);
  const result = JSON.parse(stdout()) as { layers: { layer: number; tokens: { id: number; text: string; probability: number }[] }[] };
  assert.deepEqual(Object.keys(result), ['layers']);
  assert.deepEqual(result.layers.map((layer) => layer.layer), [1, 2, 3, 4, 5]);
  for (const layer of result.layers) {
    assert.equal(layer.tokens.length, 3);
    assert.deepEqual(Object.keys(layer.tokens[0]), ['id', 'text', 'probability']);
  }
});

test('neighbours --json: {token, id, vector: [8 numbers], norm, neighbours: [{id, text, cosine}]}, best first', async () => {
  const { io, stdout } = fakeIO();
  assert.equal(await neighboursCommand.run(['--model', model, '--token', 'return', '--top', '4', '--json'], io), 0);
  const result = JSON.parse(stdout()) as { token: string; id: number; vector: number[]; norm: number; neighbours: { id: number; text: string; cosine: number }[] };
  for (const key of ['token', 'id', 'vector', 'norm', 'neighbours']) assert.ok(key in result, key);
  assert.equal(result.vector.length, 8);
  assert.ok(result.norm > 0);
  assert.equal(result.neighbours.length, 4);
  assert.ok(result.neighbours.every((n, i) => i === 0 || result.neighbours[i - 1].cosine >= n.cosine));
  assert.ok(!result.neighbours.some((n) => n.id === result.id));
});

test('attention on a long file: the window sent fills the context, and token offsets map back into the file', async () => {
  const scratch = tempDir();
  try {
    const file = join(scratch.dir, 'long.ts');
    const filler = Array.from({ length: 400 }, (_, i) => `const value${i} = ${i} * 2;\n`).join('');
    const text = `${filler}${SOURCE}`;
    writeFileSync(file, text);
    const line = text.split('\n').length - 4;
    const { io, stdout } = fakeIO();
    assert.equal(await attentionCommand.run(['--model', model, '--file', file, '--line', String(line), '--character', '4', '--json'], io), 0);
    const result = JSON.parse(stdout()) as { position: number; tokens: { id: number; start: number; end: number }[]; weights: number[] };
    // tiny-qwen2's context is 128 tokens: the window is cut to it, far from the file's start.
    assert.ok(result.tokens.length <= 127 && result.tokens[0].start > 0);
    const offset = text.indexOf('return') + 2;
    const cursor = result.tokens[result.position];
    assert.ok(cursor.start <= offset && offset < cursor.end, 'the cursor token, mapped back by the window start, covers the position in the file');
    assert.ok(Math.abs(result.weights.reduce((a, b) => a + b, 0) - 1) < 1e-4);
  } finally {
    scratch.cleanup();
  }
});
