import { test } from 'node:test';
import assert from 'node:assert/strict';
import { citedLinesWithin, formatRange, parseCitations, proseRuns } from '../../../src/core/chat/citations';

const ranges = (text: string) => parseCitations(text).map(({ start, end }) => [start, end]);

test('citations: L-forms, ranges with hyphen, en dash, "to", and bare second number', () => {
  assert.deepEqual(ranges('See L12, then L5-L7 and L8–L9; also L3-4 and L20 to L22.'), [[12, 12], [5, 7], [8, 9], [3, 4], [20, 22]]);
});

test('citations: "line 7", "lines 3-4", "lines 3 to 5", "lines 3, 5 and 7"', () => {
  assert.deepEqual(ranges('On line 7 and Lines 3-4, lines 10 to 12, lines 3, 5 and 7.'), [[7, 7], [3, 4], [10, 12], [3, 3], [5, 5], [7, 7]]);
});

test('citations: reversed ranges are normalised; offsets point at the citation', () => {
  const [citation] = parseCitations('x L9-L7');
  assert.deepEqual(citation, { start: 7, end: 9, index: 2, length: 5 });
});

test('citations: not inside words, not in code fences, not absurd ranges', () => {
  assert.deepEqual(ranges('HTML5 uses XL3 sizes; sL4 no.'), []);
  assert.deepEqual(ranges('Text L1\n```ts\nconst L2 = 1; // line 3\n```\nafter L4'), [[1, 1], [4, 4]]);
  assert.deepEqual(ranges('L1-L99999 and L0'), []);
});

test('proseRuns skips fenced blocks, including an unterminated one', () => {
  assert.deepEqual(proseRuns('a\n```\nb\n```\nc').map((run) => run.text), ['a\n', 'c']);
  assert.deepEqual(proseRuns('a\n~~~\nb').map((run) => run.text), ['a\n']);
});

test('citedLinesWithin clips to the selection and merges duplicates', () => {
  assert.deepEqual(citedLinesWithin([{ start: 1, end: 3 }, { start: 3, end: 4 }, { start: 40, end: 41 }], { start: 2, end: 10 }), [2, 3, 4]);
});

test('formatRange', () => {
  assert.equal(formatRange({ start: 3, end: 3 }), 'L3');
  assert.equal(formatRange({ start: 5, end: 7 }), 'L5-L7');
});
