import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectionLabel, shadedTokens, stepHead, stepLayer, summarizeHeads } from '../../../src/core/inside/attentionView';
import type { AttentionResult } from '../../../src/core/runtime/inspectTypes';

// Tokens of "f(a,\n  b)" : f ( a , \n  b )
const TEXT = 'f(a,\n  b)';
const spans = [[0, 1], [1, 2], [2, 3], [3, 5], [5, 7], [7, 8], [8, 9]];
const row = (target: number, weight = 0.9): number[] => spans.map((_, i) => (i > 6 ? 0 : i === target ? weight : (1 - weight) / 6));

const result: AttentionResult = {
  kind: 'attention',
  layers: 2,
  heads: 3,
  tokens: spans.map(([start, end], id) => ({ id, start, end })),
  position: 6,
  // layer 1: previous token, matching bracket, first token; layer 2: itself, start of line (the "  " after the newline), spread.
  weights: [
    [row(5), row(1), row(0)],
    [row(6), row(4), spans.map(() => 1 / 7)],
  ],
  elapsedMs: 0,
};

test('the heads-by-layers grid names where each head looks: previous token, matching bracket, first token, itself, start of line, spread out', () => {
  const grid = summarizeHeads(result, TEXT);
  assert.deepEqual(grid.map((heads) => heads.map((head) => head.role)), [
    ['previous token', 'matching bracket', 'first token'],
    ['itself', 'start of line', 'spread out'],
  ]);
  assert.equal(grid[0][1].target, 1);
  assert.ok(Math.abs(grid[0][1].weight - 0.9) < 1e-9);
});

test('shading: earlier tokens only, levels relative to the largest weight, the mean when no head is chosen', () => {
  const shaded = shadedTokens(result, { layer: 1, head: 1 });
  assert.ok(shaded.every((token) => token.index < result.position));
  assert.equal(shaded.find((token) => token.index === 5)?.level, 5);
  assert.equal(shaded.find((token) => token.index === 0)?.level, 1);
  const mean = shadedTokens(result, { layer: 1 });
  const expected = (0.9 + 0.1 / 6 + 0.1 / 6) / 3;
  assert.ok(Math.abs(mean.find((token) => token.index === 5)!.weight - expected) < 1e-9);
});

test('stepping: layers cycle through "all" and 1..N keeping the head, heads through "mean" and 1..H', () => {
  assert.deepEqual(stepLayer({}, 1, 2), { layer: 1, head: undefined });
  assert.deepEqual(stepLayer({ layer: 2, head: 3 }, 1, 2), {});
  assert.deepEqual(stepLayer({}, -1, 2), { layer: 2, head: undefined });
  assert.deepEqual(stepHead({}, 1, 3), { layer: 1, head: 1 });
  assert.deepEqual(stepHead({ layer: 2, head: 3 }, 1, 3), { layer: 2, head: undefined });
  assert.equal(selectionLabel({ layer: 2, head: 1 }), 'layer 2, head 1');
  assert.equal(selectionLabel({}), 'all layers, mean of heads');
});
