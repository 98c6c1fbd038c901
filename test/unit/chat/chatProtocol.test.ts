import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isWebviewToExtension, maxChips, maxMessageTextLength } from '../../../src/core/webview/chatProtocol';

const chip = { id: 'c1', kind: 'selection', label: 'retry.ts:2-14', path: 'retry.ts', languageId: 'typescript', startLine: 2, text: 'code', tokens: 3 };

test('protocol: well-formed webview messages pass', () => {
  for (const message of [
    { type: 'ready' },
    { type: 'send', requestId: 'r1', text: 'hi', chips: [chip] },
    { type: 'stop', requestId: 'r1' },
    { type: 'measure', measureId: 3, text: '', chips: [] },
    { type: 'attach', kind: 'file' },
    { type: 'codeAction', action: 'replace', code: 'x' },
    { type: 'openLink', href: 'https://example.com' },
    { type: 'revealLines', messageId: 'm', start: 3, end: 7 },
    { type: 'openTrace', messageId: 'm' },
    { type: 'setThinking', mode: 'off' },
    { type: 'newChat' },
    { type: 'command', command: 'chooseModel' },
  ]) {
    assert.equal(isWebviewToExtension(message), true, JSON.stringify(message));
  }
});

test('protocol: malformed or hostile messages are rejected', () => {
  for (const message of [
    null,
    'send',
    { type: 'toString' },
    { type: '__proto__' },
    { type: 'send', requestId: 'r1', text: 'hi' },
    { type: 'send', requestId: 'r1', text: 'x'.repeat(maxMessageTextLength + 1), chips: [] },
    { type: 'send', requestId: 'r1', text: 'hi', chips: Array.from({ length: maxChips + 1 }, () => chip) },
    { type: 'send', requestId: 'r1', text: 'hi', chips: [{ ...chip, kind: 'url' }] },
    { type: 'codeAction', action: 'delete', code: 'x' },
    { type: 'revealLines', messageId: 'm', start: 0, end: 2 },
    { type: 'revealLines', messageId: 'm', start: 1.5, end: 2 },
    { type: 'setThinking', mode: 'always' },
    { type: 'command', command: 'workbench.action.terminal.new' },
  ]) {
    assert.equal(isWebviewToExtension(message), false, JSON.stringify(message)?.slice(0, 80));
  }
});
