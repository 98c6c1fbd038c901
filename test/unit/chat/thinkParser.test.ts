import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ThinkParser, splitThinking, type ThinkDelta, type ThinkParserOptions } from '../../../src/core/chat/thinkParser';

/** Rebuilds what a UI shows from the deltas alone: it must match the parser's own snapshot. */
function applyDeltas(deltas: readonly ThinkDelta[]): { thinking: string; answer: string } {
  let thinking = '';
  let answer = '';
  for (const delta of deltas) {
    if (delta.kind === 'reclassify') {
      thinking += answer;
      answer = '';
    } else if (delta.kind === 'thinking') thinking += delta.text;
    else answer += delta.text;
  }
  return { thinking: thinking.replace(/\s+$/, ''), answer };
}

function parseChunks(chunks: readonly string[], options: ThinkParserOptions = {}) {
  const parser = new ThinkParser(options);
  const deltas = chunks.flatMap((chunk) => parser.push(chunk));
  deltas.push(...parser.finish());
  return { snapshot: parser.snapshot(), shown: applyDeltas(deltas), deltas };
}

/** Every way to cut `text` into three chunks (two cut points), plus one character at a time. */
function* everySplit(text: string): Generator<string[]> {
  for (let a = 0; a <= text.length; a++) {
    for (let b = a; b <= text.length; b++) yield [text.slice(0, a), text.slice(a, b), text.slice(b)];
  }
  yield [...text];
}

const cases: { name: string; text: string; options?: ThinkParserOptions; thinking: string; answer: string; complete: boolean; hasThinking: boolean }[] = [
  { name: 'Qwen3 style <think>…</think>', text: '<think>\nCheck L3 first.\n</think>\n\nIt retries (L4).', thinking: 'Check L3 first.', answer: 'It retries (L4).', complete: true, hasThinking: true },
  { name: 'leading whitespace before <think>', text: '\n <think>a b</think>answer', thinking: 'a b', answer: 'answer', complete: true, hasThinking: true },
  { name: 'DeepSeek-R1 style: only the closing tag, detected', text: 'Let me see.\nL3 keeps it.\n</think>\n\nSummary: ok.', thinking: 'Let me see.\nL3 keeps it.', answer: 'Summary: ok.', complete: true, hasThinking: true },
  { name: 'DeepSeek-R1 style, prompt known to open the trace', text: 'Let me see.\n</think>\n\nDone.', options: { startsInThinking: true }, thinking: 'Let me see.', answer: 'Done.', complete: true, hasThinking: true },
  { name: 'unterminated trace (stopped at max tokens)', text: '<think>\nStill thinking about L5', thinking: 'Still thinking about L5', answer: '', complete: false, hasThinking: true },
  { name: 'no trace at all', text: 'Plain answer with `code`.', thinking: '', answer: 'Plain answer with `code`.', complete: false, hasThinking: false },
  { name: 'answer quoting tags in a code fence (no trace)', text: 'Tags look like:\n```html\n<think>x</think>\n```\nDone.', thinking: '', answer: 'Tags look like:\n```html\n<think>x</think>\n```\nDone.', complete: false, hasThinking: false },
  { name: 'closing tag in inline code is text', text: 'Strip the `</think>` tag first.', thinking: '', answer: 'Strip the `</think>` tag first.', complete: false, hasThinking: false },
  { name: 'tags in a code fence after a real trace', text: '<think>t</think>\n\nUse:\n~~~\n</think>\n<think>\n~~~\nok', thinking: 't', answer: 'Use:\n~~~\n</think>\n<think>\n~~~\nok', complete: true, hasThinking: true },
  { name: 'a second <think> in the answer is text', text: '<think>a</think>B <think> C', thinking: 'a', answer: 'B <think> C', complete: true, hasThinking: true },
  { name: 'empty pre-filled trace', text: '</think>\n\nAnswer.', thinking: '', answer: 'Answer.', complete: true, hasThinking: true },
  { name: 'fence closes, then the R1 closing tag counts', text: '```\ncode\n```\nmore\n</think>\nA', thinking: '```\ncode\n```\nmore', answer: 'A', complete: true, hasThinking: true },
  { name: 'only a partial tag at the end stays text', text: 'Answer ends with </thi', thinking: '', answer: 'Answer ends with </thi', complete: false, hasThinking: false },
  { name: 'only a partial opening tag', text: '<thi', thinking: '', answer: '<thi', complete: false, hasThinking: false },
];

for (const c of cases) {
  test(`think parser: ${c.name}, in every split across chunks`, () => {
    for (const chunks of everySplit(c.text)) {
      const { snapshot, shown } = parseChunks(chunks, c.options);
      const where = JSON.stringify(chunks);
      assert.equal(snapshot.thinking, c.thinking, `thinking for ${where}`);
      assert.equal(snapshot.answer, c.answer, `answer for ${where}`);
      assert.equal(snapshot.thinkingComplete, c.complete, `complete for ${where}`);
      assert.equal(snapshot.hasThinking, c.hasThinking, `hasThinking for ${where}`);
      assert.deepEqual(shown, { thinking: c.thinking, answer: c.answer }, `deltas for ${where}`);
    }
  });
}

test('think parser streams the trace before it closes (the UI shows it live)', () => {
  const parser = new ThinkParser();
  assert.deepEqual(parser.push('<think>\nFirst '), [{ kind: 'thinking', text: 'First ' }]);
  assert.deepEqual(parser.push('idea </th'), [{ kind: 'thinking', text: 'idea ' }]);
  assert.deepEqual(parser.push('ink>\n\nAns'), [{ kind: 'answer', text: 'Ans' }]);
});

test('think parser: R1 text streams as answer, then one reclassify moves it into the trace', () => {
  const { deltas } = parseChunks(['Hmm, L3', ' matters.\n</', 'think>\n\nIt works.']);
  assert.deepEqual(deltas, [
    { kind: 'answer', text: 'Hmm, L3' },
    { kind: 'answer', text: ' matters.\n' },
    { kind: 'reclassify' },
    { kind: 'answer', text: 'It works.' },
  ]);
});

test('think parser counts trace tokens (closing tag included) and times the trace', () => {
  let clock = 1000;
  const parser = new ThinkParser({ now: () => clock });
  parser.push('<think>', 1);
  clock = 1100;
  parser.push('a', 1);
  parser.push(' b', 1);
  clock = 1600;
  parser.push('</think>', 1);
  clock = 2000;
  parser.push('\n\nOK', 2);
  parser.finish();
  const snapshot = parser.snapshot();
  assert.equal(snapshot.thinkingTokens, 4);
  assert.equal(snapshot.answerTokens, 2);
  assert.equal(snapshot.thinkingDurationMs, 500);
});

test('think parser moves provisional tokens to the trace on reclassify', () => {
  const parser = new ThinkParser({ now: () => 0 });
  parser.push('one', 1);
  parser.push(' two', 1);
  parser.push('</think>', 1);
  parser.push('Yes', 1);
  parser.finish();
  assert.equal(parser.snapshot().thinkingTokens, 3);
  assert.equal(parser.snapshot().answerTokens, 1);
});

test('think parser: startsInThinking false never reclassifies', () => {
  const { snapshot } = parseChunks(['Text </think> more'], { startsInThinking: false });
  assert.equal(snapshot.answer, 'Text </think> more');
  assert.equal(snapshot.hasThinking, false);
});

test('think parser refuses pushes after finish', () => {
  const parser = new ThinkParser();
  parser.finish();
  assert.throws(() => parser.push('x'), /after finish/);
});

test('splitThinking parses a whole stored answer', () => {
  assert.deepEqual(
    { thinking: splitThinking('<think>x</think>y').thinking, answer: splitThinking('<think>x</think>y').answer },
    { thinking: 'x', answer: 'y' },
  );
});
