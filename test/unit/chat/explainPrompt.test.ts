import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildExplainPrompt, explainTitle, fenceFor, lastLine, maxExplainLines, numberLines } from '../../../src/core/chat/explainPrompt';
import { parseCitations } from '../../../src/core/chat/citations';

const selection = { path: 'src/retry.ts', languageId: 'typescript', startLine: 9, text: 'let a = 1;\nlet b = 2;\n\nreturn a + b;\n' };

test('numberLines uses real file line numbers, padded, and ignores a final newline', () => {
  assert.equal(numberLines(selection.text, 9), 'L9 : let a = 1;\nL10: let b = 2;\nL11: \nL12: return a + b;');
  assert.equal(numberLines('a\r\nb', 1), 'L1: a\nL2: b');
  assert.equal(lastLine(selection), 12);
});

test('explain prompt gives file, language, line range, numbered code, and asks for L<n> citations', () => {
  const message = buildExplainPrompt(selection);
  assert.equal(message.role, 'user');
  assert.match(message.content, /TypeScript code from `src\/retry\.ts` \(lines 9-12\)/);
  assert.match(message.content, /cite them as L<n> or L<a>-L<b> \(for example L9 or L9-L11\)/);
  assert.match(message.content, /```typescript\nL9 : let a = 1;\nL10: let b = 2;\nL11: \nL12: return a \+ b;\n```$/);
  assert.equal(explainTitle(selection), 'Explain src/retry.ts:9-12');
});

test('explain prompt: the fence outgrows backticks in the code', () => {
  assert.equal(fenceFor('a ```` b'), '`````');
  const message = buildExplainPrompt({ ...selection, text: 'const md = "```";', languageId: 'javascriptreact' });
  assert.match(message.content, /````jsx\nL9: const md = "```";\n````$/);
});

test('explain prompt refuses empty and oversized selections with what to do', () => {
  assert.throws(() => buildExplainPrompt({ ...selection, text: '  \n' }), /select the code to explain/);
  assert.throws(() => buildExplainPrompt({ ...selection, text: 'x\n'.repeat(maxExplainLines + 1) }), /Select a smaller part/);
});

test('the example citations in the prompt parse as citations of the selection', () => {
  const lines = parseCitations('for example L9 or L9-L11').map(({ start, end }) => [start, end]);
  assert.deepEqual(lines, [[9, 9], [9, 11]]);
});
