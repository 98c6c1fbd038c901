import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attachmentChip, attachmentProblem, wholeLineSpan } from '../../../src/core/chat/attachments';
import { explainRefFor, failedAnswerMessage, modelMessages, traceInputFor, userMessageFrom, withAttachments } from '../../../src/core/chat/conversation';
import type { StoredConversation } from '../../../src/core/chat/historyFormat';
import { linkRefusal } from '../../../src/core/chat/links';
import { maxChipTextLength, type ContextChip } from '../../../src/core/webview/chatProtocol';

const explain = { uri: 'file:///w/a.ts', path: 'a.ts', languageId: 'typescript', startLine: 3, endLine: 5 };
const conversation: StoredConversation = {
  id: 'c',
  title: 'c',
  createdAt: 1,
  updatedAt: 1,
  messages: [
    { id: 'u1', role: 'user', text: 'Explain a.ts:3-5', prompt: 'numbered code', explain, createdAt: 1 },
    { id: 'a1', role: 'assistant', text: 'It adds.', thinking: { text: 'L3 adds', tokens: 2, durationMs: 5, complete: true }, stopReason: 'stop', model: 'm', createdAt: 2 },
    { id: 'u2', role: 'user', text: 'unanswered', createdAt: 3 },
    { id: 'a2', role: 'assistant', text: 'half', stopReason: 'error', error: 'crashed', model: 'm', createdAt: 4 },
    { id: 'u3', role: 'user', text: 'last', createdAt: 5 },
  ],
};

test('the model sees questions as sent and answers without reasoning; a failed exchange is left out', () => {
  assert.deepEqual(modelMessages(conversation), [
    { role: 'user', content: 'numbered code' },
    { role: 'assistant', content: 'It adds.' },
    { role: 'user', content: 'last' },
  ]);
});

test('attachments become fenced blocks before the question; attachments alone ask to explain them', () => {
  const chip: ContextChip = { id: 'x', kind: 'selection', label: 'a.ts:3-4', path: 'src/a.ts', languageId: 'typescript', startLine: 3, text: 'const a = `x`;\n', tokens: 5 };
  const file: ContextChip = { id: 'y', kind: 'file', label: 'notes.txt', path: 'notes.txt', languageId: 'plaintext', text: 'hello', tokens: 1 };
  assert.equal(withAttachments('Why?', [chip, file]), 'Selected code from `src/a.ts` (from line 3):\n```typescript\nconst a = `x`;\n```\n\nThe file `notes.txt`:\n```\nhello\n```\n\nWhy?');
  const user = userMessageFrom('  ', [file]);
  assert.equal(user?.text, 'Explain the attached code.');
  assert.deepEqual(user?.attachments, ['notes.txt']);
  assert.match(user?.prompt ?? '', /Explain the attached code\.$/);
  assert.equal(userMessageFrom('  \n', []), undefined);
  assert.equal(userMessageFrom(' hi ', [])?.prompt, undefined);
});

test('an answer finds its explain request and its trace; a failed answer keeps its partial text', () => {
  assert.deepEqual(explainRefFor(conversation, 'a1'), explain);
  assert.equal(explainRefFor(conversation, 'a2'), undefined);
  assert.deepEqual(traceInputFor(conversation, 'a1'), { title: 'Explain a.ts:3-5', model: 'm', createdAt: 2, thinking: { text: 'L3 adds', tokens: 2, durationMs: 5, complete: true }, answer: 'It adds.', stopReason: 'stop' });
  assert.equal(traceInputFor(conversation, 'a2')?.answer, 'half\n\n(error: crashed)');
  assert.equal(traceInputFor(conversation, 'u1'), undefined);
  const failed = failedAnswerMessage('f', { thinking: 'so far', answer: 'par' }, new Error('stopped.'), 'm', 9);
  assert.deepEqual(failed, { id: 'f', role: 'assistant', text: 'par', thinking: { text: 'so far', tokens: 0, durationMs: 0, complete: false }, stopReason: 'error', error: 'stopped. See the Tokenscope log for details.', model: 'm', createdAt: 9 });
});

test('a selection is widened to whole lines; one ending at column 0 leaves that line out', () => {
  const at = (line: number, character: number) => ({ line, character });
  assert.deepEqual(wholeLineSpan({ isEmpty: false, start: at(2, 4), end: at(5, 0) }), { startLine: 2, endLine: 4 });
  assert.deepEqual(wholeLineSpan({ isEmpty: false, start: at(2, 4), end: at(2, 0) }), { startLine: 2, endLine: 2 });
  assert.deepEqual(wholeLineSpan({ isEmpty: false, start: at(2, 0), end: at(3, 1) }), { startLine: 2, endLine: 3 });
  assert.equal(wholeLineSpan({ isEmpty: true, start: at(2, 0), end: at(2, 0) }), undefined);
});

test('attachment chips are labelled by file (and lines), and one too large for the protocol is refused with what to do', () => {
  const selection = attachmentChip({ path: 'src/retry.ts', languageId: 'typescript', text: 'a\nb', lines: { startLine: 2, endLine: 3 } }, 4);
  assert.deepEqual({ ...selection, id: '' }, { id: '', kind: 'selection', label: 'retry.ts:2-3', path: 'src/retry.ts', languageId: 'typescript', startLine: 2, text: 'a\nb', tokens: 4 });
  const file = attachmentChip({ path: 'src/retry.ts', languageId: 'typescript', text: 'x' }, 1);
  assert.equal(file.kind, 'file');
  assert.equal(file.label, 'retry.ts');
  assert.equal('startLine' in file, false);
  assert.equal(attachmentProblem(file), undefined);
  const huge = attachmentChip({ path: 'big.json', languageId: 'json', text: 'x'.repeat(maxChipTextLength + 1) }, 1);
  assert.equal(attachmentProblem(huge), `big.json is ${Math.round((maxChipTextLength + 1) / 1000)} KB; attachments are limited to ${maxChipTextLength / 1000} KB. Attach a selection instead.`);
});

test('links from model output: only http, https and mailto are offered', () => {
  for (const scheme of ['http', 'https', 'mailto']) assert.equal(linkRefusal(scheme), undefined);
  assert.equal(linkRefusal('command'), 'Tokenscope opens only http, https and mailto links from model output, not command: links.');
  assert.match(linkRefusal('file') ?? '', /not file: links/);
});
