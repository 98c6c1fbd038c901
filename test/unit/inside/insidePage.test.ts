import { test } from 'node:test';
import assert from 'node:assert/strict';
import { embeddingHoverMarkdown } from '../../../src/core/inside/embeddingHover';
import { insidePageHtml, lensLesson } from '../../../src/core/inside/insidePage';
import type { LensResult } from '../../../src/core/runtime/inspectTypes';

const lens = (tops: [number, string, number][]): LensResult => ({ kind: 'lens', promptTokens: 3, elapsedMs: 1, layers: tops.map(([id, text, probability], i) => ({ layer: i + 1, tokens: [{ id, text, probability }] })) });

test('the lens lesson says from which layer on the output was already the top guess', () => {
  assert.match(lensLesson(lens([[1, 'a', 0.3], [2, ' b', 0.2], [2, ' b', 0.6]])), /from layer 2 of 3 on, the top guess is already the output's “ b” \(20% there, 60% at the output\)/);
  assert.match(lensLesson(lens([[1, 'a', 0.3], [1, 'a', 0.2], [2, '\n', 0.6]])), /only the last layer \(3\) picks “\\n”/);
});

test('the page: escaped text, a strict CSP with no script, the lens table and the grid', () => {
  const html = insidePageHtml({
    cspSource: 'vscode-resource:',
    nonce: 'N0NCE',
    modelLabel: 'tokenscope-mini',
    context: '<script>x',
    lens: lens([[1, '<b>', 0.5], [1, '<b>', 0.7]]),
    grid: [[{ layer: 1, head: 1, role: 'previous token', target: 0, weight: 0.8 }]],
    tokenText: () => '"q"',
    cursorToken: ')',
    selection: { layer: 1, head: 1 },
  });
  assert.ok(!html.includes('<script'), 'no script, and text is escaped');
  assert.match(html, /default-src 'none'; style-src vscode-resource: 'nonce-N0NCE'/);
  assert.match(html, /&lt;b&gt;/);
  assert.match(html, /1 \(output\)|2 \(output\)/);
  assert.match(html, /class="role previous-token chosen"/);
});

test('the embedding hover shows the first numbers, the norm, the storage when quantized and the nearest tokens', () => {
  const markdown = embeddingHoverMarkdown({ kind: 'neighbours', token: ' return', id: 356, vector: [0.0522, -0.1, 0, 0, 0, 0, 0, 0.5], norm: 0.6464, dimensions: 192, storage: 'int8', neighbours: [{ id: 1, text: ' throw', cosine: 0.436 }], elapsedMs: 1 }, 'mini');
  assert.match(markdown, /\[0\.05, -0\.10, 0\.00, 0\.00, 0\.00, 0\.00, 0\.00, 0\.50, …\]/);
  assert.match(markdown, /192 numbers, norm 0\.65 \(stored int8, dequantized\)/);
  assert.match(markdown, /` throw` 0\.44/);
});
