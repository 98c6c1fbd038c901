import { test } from 'node:test';
import assert from 'node:assert/strict';
import { annotateLines, plainSummary, sentences, textBlocks } from '../../../src/core/chat/annotations';

test('textBlocks: paragraphs and list items, code fences left out', () => {
  const text = 'Intro about L2.\nStill intro.\n\n- **L3** keeps it.\n- L4 loops.\n\n```ts\nL5 in code\n```\n## Heading L6';
  assert.deepEqual(textBlocks(text), ['Intro about L2.\nStill intro.', '- **L3** keeps it.', '- L4 loops.', '## Heading L6']);
});

test('sentences: split after full stops, not inside a citation', () => {
  assert.deepEqual(sentences('First L5-L7. Then `x` on L9. Done'), ['First L5-L7.', 'Then `x` on L9.', 'Done']);
});

test('plainSummary strips Markdown and truncates', () => {
  assert.equal(plainSummary('- **L3** keeps `lastError` [docs](http://x)'), 'L3 keeps lastError docs');
  assert.equal(plainSummary('a'.repeat(200), 20).length, 20);
});

test('annotateLines: answer notes first, ranges annotate every line, out-of-selection citations dropped', () => {
  const annotations = annotateLines(
    { thinking: 'L3 has the state. Then L5-L7 is a try/catch.', answer: '- **The loop (L4):** one iteration.\n- **Try (L5-L6):** returns. Also L99.' },
    { start: 2, end: 14 },
  );
  assert.deepEqual(annotations.map((a) => a.line), [3, 4, 5, 6, 7]);
  const five = annotations.find((a) => a.line === 5);
  assert.deepEqual(five?.notes.map((n) => [n.kind, n.summary]), [
    ['answer', 'Try (L5-L6): returns.'],
    ['thinking', 'Then L5-L7 is a try/catch.'],
  ]);
  assert.equal(five?.notes[0]?.segment, '- **Try (L5-L6):** returns. Also L99.');
  assert.deepEqual(annotations.find((a) => a.line === 7)?.notes.map((n) => n.kind), ['thinking']);
});

test('annotateLines without a trace annotates from the answer alone; no citations, no notes', () => {
  assert.deepEqual(annotateLines({ thinking: '', answer: 'Line 3 matters.' }, { start: 1, end: 5 }).map((a) => a.line), [3]);
  assert.deepEqual(annotateLines({ thinking: '', answer: 'Nothing cited here.' }, { start: 1, end: 5 }), []);
});
