import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DocumentTokens, cutRuleFor, isCut } from '../../../src/core/tokenizers/documentTokens';
import { TokenizerRegistry } from '../../../src/core/tokenizers/registry';
import type { Tokenizer } from '../../../src/core/tokenizers/types';

const registry = new TokenizerRegistry();

/** Real code with varied indentation, CRLF, blank lines with spaces, CJK and emoji. */
const SOURCES = [
  readFileSync('src/core/tokenizers/bytePairTokenizer.ts', 'utf8'),
  readFileSync('node_modules/typescript/lib/typescript.js', 'utf8').slice(400_000, 430_000),
  'def f(x):\r\n    """Doc 你好"""\r\n  \r\n    return x  # 😀\r\n\r\n\r\nclass A:\r\n\tpass\r\n',
  '{\n  "a": [1, 2,\n    3],\n  "b": "é\u0301"\n}\n' + '\n'.repeat(5) + '   \n\t\n' + 'x = 1\n'.repeat(20),
].join('\n');

function assertSameAsWhole(tokenizer: Tokenizer, document: DocumentTokens, message: string): void {
  const whole = tokenizer.encodeWithOffsets(document.text);
  const visited: { id: number; start: number; end: number }[] = [];
  document.forEachToken(0, document.text.length, (token) => {
    assert.equal(token.index, visited.length, 'global indexes count up');
    visited.push({ id: token.id, start: token.start, end: token.end });
  });
  assert.equal(document.tokenCount, whole.length, `${message}: count`);
  assert.deepEqual(visited, whole.map((span) => ({ id: span.id, start: span.start, end: span.end })), message);
}

for (const id of ['qwen2.5', 'llama3', 'deepseek-v3', 'o200k_base', 'cl100k_base', 'claude', 'mini']) {
  test(`${id}: chunked document tokens equal whole-text tokens, before and after random edits`, async (t) => {
    let tokenizer: Tokenizer;
    try {
      tokenizer = await registry.get(id);
    } catch (error) {
      t.skip(`not available: ${(error as Error).message}`);
      return;
    }
    const rule = cutRuleFor(tokenizer);
    assert.equal(rule, id === 'claude' ? 'gpt2' : 'indented', 'GPT-2-style patterns cut before the last indentation space');
    const document = new DocumentTokens(tokenizer, SOURCES);
    assertSameAsWhole(tokenizer, document, 'initial build');
    // Deterministic pseudo-random edits: typing, deleting, newlines, indentation, pasting.
    let seed = 12345;
    const random = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
      return seed % n;
    };
    const inserts = ['a', ' ', '\n', '\t', '}', '\n    x', '你', '😀', "'s", '\r\n', '// ', '12', ''];
    let text = SOURCES;
    for (let step = 0; step < 60; step++) {
      const start = random(text.length + 1);
      const end = Math.min(text.length, start + (random(3) === 0 ? random(40) : 0));
      const insert = inserts[random(inserts.length)];
      const next = text.slice(0, start) + insert + text.slice(end);
      const rechunked = document.update(next, start, end);
      assert.ok(rechunked < next.length / 2, `edit ${step} re-tokenized ${rechunked} of ${next.length} characters`);
      text = next;
      if (step % 10 === 9) assertSameAsWhole(tokenizer, document, `after edit ${step}`);
    }
    assertSameAsWhole(tokenizer, document, 'after all edits');
    // Deleting everything and typing again.
    document.update('', 0, text.length);
    assert.equal(document.tokenCount, 0);
    document.update('hello\nworld', 0, 0);
    assertSameAsWhole(tokenizer, document, 'after retyping');
  });
}

test('tokenAt finds the token covering an offset; visits cover only the asked range', async () => {
  const tokenizer = await registry.get('qwen2.5');
  const text = 'const alpha = 1;\nconst beta = 2;\n';
  const document = new DocumentTokens(tokenizer, text);
  const token = document.tokenAt(text.indexOf('beta') + 1);
  assert.ok(token);
  assert.equal(text.slice(token.start, token.end), ' beta');
  assert.equal(document.tokenAt(text.length), undefined);
  const seen: string[] = [];
  document.forEachToken(text.indexOf('beta'), text.indexOf('beta') + 4, (visit) => seen.push(text.slice(visit.start, visit.end)));
  assert.deepEqual(seen, [' beta']);
});

test('cut positions: after a newline, before (indented) letters or digits; GPT-2 style before the last indentation space', () => {
  const text = 'a\n  b\n}\n\n  \nc\n/x\n\n9\n';
  const cuts = (rule: 'indented' | 'gpt2') => [...Array(text.length).keys()].filter((x) => x > 0 && isCut(text, x, rule)).map((x) => JSON.stringify(text.slice(x, x + 3)));
  assert.deepEqual(cuts('indented'), ['"  b"', '"c\\n/"', '"9\\n"']);
  assert.deepEqual(cuts('gpt2'), ['" b\\n"']);
  assert.ok(isCut('x;\nfoo', 3, 'gpt2'), 'a lone newline before a letter');
  assert.ok(!isCut('x;\n\nfoo', 4, 'gpt2'), 'not after a run of newlines');
});

test('a large document can be built in steps', async () => {
  const tokenizer = await registry.get('o200k_base');
  const document = new DocumentTokens(tokenizer, SOURCES, { deferBuild: true });
  let steps = 0;
  for (const _ of document.buildSteps(4096)) steps++;
  assert.ok(steps > 5, `${steps} steps`);
  assertSameAsWhole(tokenizer, document, 'stepwise build');
});
