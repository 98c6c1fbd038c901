import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { detectBlocks, textLineSource, type Block, type SymbolData } from '../../../src/core/cost/blocks';
import { BlockCountCache, blockCostLabel, countBlocks, type CountBlocks } from '../../../src/core/cost/blockCosts';
import { buildPriceTable } from '../../../src/core/pricing/cost';
import type { HostToWorker, ResultOf, TokenizerWorkerMethod } from '../../../src/core/tokenizerWorker/protocol';
import { BUILTIN_TOKENIZERS } from '../../../src/core/tokenizers/descriptors';
import { TokenizerRegistry } from '../../../src/core/tokenizers/registry';
import { TokenizerWorkerServer } from '../../../src/tokenizer-worker/server';

const root = resolve(__dirname, '../../..');

// Three functions written out apart, so the test knows each block's text without any offset arithmetic.
const add = 'def add(a, b):\n    """Sum, 你好 🙂."""\n    return a + b';
const klass = 'class Greeter:\n    def greet(self, name):\n        return f"hello {name}"\n\n    def part(self):\n        return 1';
const tail = 'def tail():\n    pass';
const python = `import os\n\n${add}\n\n\n${klass}\n\n${tail}\n`;
const lineOf = (needle: string) => python.slice(0, python.indexOf(needle)).split('\n').length - 1;
const linesIn = (text: string) => text.split('\n').length;
const symbols: SymbolData[] = [
  { name: 'add', kind: 'function', startLine: lineOf(add), endLine: lineOf(add) + linesIn(add) - 1 },
  { name: 'Greeter', kind: 'class', startLine: lineOf(klass), endLine: lineOf(klass) + linesIn(klass) - 1 },
  // A method inside the class: nested, not a block of its own.
  { name: 'greet', kind: 'method', startLine: lineOf(klass) + 1, endLine: lineOf(klass) + 2 },
  { name: 'tail', kind: 'function', startLine: lineOf(tail), endLine: lineOf(tail) + 1 },
];

/** The tokenizer worker's server in this thread, holding `text` as a mirrored document. */
function workerCounter(text: string): CountBlocks {
  const server = new TokenizerWorkerServer({
    rootDir: root,
    send: (message) => {
      if (message.type === 'result') waiting.get(message.id)?.resolve(message.value);
      if (message.type === 'error') waiting.get(message.id)?.reject(new Error(message.message));
    },
  });
  const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  const request = <M extends TokenizerWorkerMethod>(method: M, params: Extract<HostToWorker, { type: 'request'; method: M }>['params']): Promise<ResultOf<M>> =>
    new Promise((resolvePromise, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve: resolvePromise as (value: unknown) => void, reject });
      server.handle({ type: 'request', id, method, params } as HostToWorker);
    });
  server.handle({ type: 'open', uri: 'file:///a.py', version: 1, text });
  return async (tokenizer, blocks) => {
    const counts = await request('count', { uri: 'file:///a.py', version: 1, countIn: [{ builtin: tokenizer }], targets: blocks.map((block) => ({ start: block.start, end: block.end })), waitMs: 60_000 });
    const entry = counts[tokenizer];
    assert.equal(entry?.state, 'ready');
    return entry.state === 'ready' ? entry.counts : [];
  };
}

test('blocks are the top-level symbols, nested ones skipped, with their exact text', () => {
  const source = textLineSource(python);
  const blocks = detectBlocks(source, symbols);
  assert.deepEqual(
    blocks.map((block) => block.name),
    ['add', 'Greeter', 'tail'],
  );
  assert.deepEqual(
    blocks.map((block) => python.slice(block.start, block.end)),
    [add, klass, tail],
  );
  // Only the blocks touching a window: the class's last line alone finds the class.
  const window = detectBlocks(source, symbols, { firstLine: lineOf(klass) + 5, lastLine: lineOf(klass) + 5 });
  assert.deepEqual(
    window.map((block) => block.name),
    ['Greeter'],
  );
});

test('without a symbol provider, blocks are blank-line paragraphs (CRLF too), also from inside a window', () => {
  const paragraphs = detectBlocks(textLineSource(python), undefined);
  assert.deepEqual(
    paragraphs.map((block) => python.slice(block.start, block.end)),
    ['import os', add, 'class Greeter:\n    def greet(self, name):\n        return f"hello {name}"', '    def part(self):\n        return 1', tail],
  );
  const crlf = 'a\r\nb\r\n\r\nc\r\n';
  assert.deepEqual(
    detectBlocks(textLineSource(crlf), undefined).map((block) => crlf.slice(block.start, block.end)),
    ['a\r\nb', 'c'],
  );
  // A window starting mid-paragraph still gets the whole paragraph.
  const inside = detectBlocks(textLineSource(python), undefined, { firstLine: lineOf(add) + 1, lastLine: lineOf(add) + 1 });
  assert.deepEqual(
    inside.map((block) => python.slice(block.start, block.end)),
    [add],
  );
  assert.deepEqual(detectBlocks(textLineSource(''), undefined), []);
  // An empty symbol list (what the editor answers without a provider) means paragraphs too.
  assert.deepEqual(detectBlocks(textLineSource(python), []), paragraphs);
});

test('block counts through the tokenizer worker equal a direct count of each block text, in every tokenizer', async () => {
  const registry = new TokenizerRegistry({ rootDir: root });
  const blocks = detectBlocks(textLineSource(python), symbols);
  const ids = BUILTIN_TOKENIZERS.map((entry) => entry.id);
  const result = await countBlocks(blocks, (block) => python.slice(block.start, block.end), ids, new BlockCountCache(), workerCounter(python));
  for (const id of ids) {
    const tokenizer = await registry.get(id);
    const direct = [add, klass, tail].map((text) => tokenizer.count(text));
    assert.deepEqual(
      result.counts.map((counts) => counts[id]),
      direct,
      id,
    );
    assert.ok(direct.every((value) => value > 0));
  }
  assert.equal(result.counted, blocks.length * ids.length);
});

test('after an edit only the changed block is counted again', async () => {
  const cache = new BlockCountCache();
  const asked: string[] = [];
  const counter: CountBlocks = async (_tokenizer, blocks) => blocks.map((block) => (asked.push(String(block.name)), block.end - block.start));
  let text = python;
  const textOf = (block: Block) => text.slice(block.start, block.end);
  const first = await countBlocks(detectBlocks(textLineSource(text), symbols), textOf, ['o200k_base'], cache, counter);
  assert.equal(first.counted, 3);
  asked.length = 0;
  // Type into `add`: its text changes, the others' offsets move but not their text.
  text = text.replace('return a + b', 'return a + b + 1');
  const second = await countBlocks(detectBlocks(textLineSource(text), symbols), textOf, ['o200k_base'], cache, counter);
  assert.equal(second.counted, 1);
  assert.deepEqual(asked, ['add']);
  assert.equal(second.counts[0].o200k_base, add.length + 4);
  // A bounded cache forgets the oldest entries.
  const small = new BlockCountCache(2);
  small.store('t', 'a', 1);
  small.store('t', 'b', 2);
  small.store('t', 'c', 3);
  assert.equal(small.size, 2);
  assert.equal(small.lookup('t', 'a'), undefined);
  assert.equal(small.lookup('t', 'c'), 3);
});

test('the label shows the count and the input cost on the reference model, marking stale prices', () => {
  const models = buildPriceTable([{ id: 'fresh', inputPerMTok: 2.5, outputPerMTok: 10, tokenizer: 'o200k_base', asOf: '2026-10-01' }]).models;
  const fresh = models.find((model) => model.id === 'fresh');
  const gpt4o = models.find((model) => model.id === 'gpt-4o');
  assert.ok(fresh && gpt4o);
  const now = new Date('2026-12-03T12:00:00Z');
  // 412 tokens at $2.50 per million = $0.00103.
  const same = blockCostLabel({ chosenCount: 412, chosenTokenizer: 'o200k_base', referenceCount: 412, reference: fresh, now });
  assert.equal(same.text, '412 tok · $0.0010 in');
  assert.match(same.hover, /Prices as of 2026-10-01\.$/);
  // GPT-4o's built-in price is from 2024-10-01: possibly stale, pointing at the setting.
  const stale = blockCostLabel({ chosenCount: 500, chosenTokenizer: 'qwen2.5', referenceCount: 412, reference: gpt4o, now });
  assert.equal(stale.text, '500 tok · $0.0010 in (gpt-4o 412 tok) ⚠');
  // A small block keeps two significant digits: 17 tokens at $2.50 per million = $0.0000425.
  assert.equal(blockCostLabel({ chosenCount: 17, chosenTokenizer: 'o200k_base', referenceCount: 17, reference: fresh, now }).text, '17 tok · $0.000043 in');
  assert.match(stale.hover, /possibly stale \(793 days old\): set current ones in tokenscope\.cost\.customModels/);
});
