import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PricedModel } from '../../../src/core/pricing/prices';
import { comparePageHtml, maxShownChars } from '../../../src/core/tokenLens/comparePage';
import { codeSpan, hoverCommands, tokenHoverMarkdown } from '../../../src/core/tokenLens/hoverMarkdown';
import type { CountsOf } from '../../../src/core/tokenizerWorker/protocol';
import { escapeHtml } from '../../../src/core/webview/html';

const price = (id: string, tokenizer: string, estimate = false): PricedModel => ({ id, label: `${id} | label`, provider: 'p', tokenizer, tokenizerEstimate: estimate, inputPerMTok: 2, outputPerMTok: 10, contextWindow: 1000, asOf: '2026-11-01' }) as PricedModel;

test('escapeHtml makes every character that could open markup or leave an attribute plain text', () => {
  assert.equal(escapeHtml(`<img src="x" onerror='y'> & co`), '&lt;img src=&quot;x&quot; onerror=&#39;y&#39;&gt; &amp; co');
  assert.equal(escapeHtml('plain'), 'plain');
});

test('the hover: the token, counts side by side with the chosen tokenizer first, the cost per priced model, and what still loads', () => {
  const counts: Record<string, CountsOf> = {
    qwen: { state: 'ready', counts: [3, 120, 7] },
    claude: { state: 'loading' },
    broken: { state: 'failed', error: 'no file' },
  };
  const { markdown, loading } = tokenHoverMarkdown({
    token: { id: 42, start: 0, end: 3, text: 'a`b', byteLength: 1, partial: true },
    chosen: { id: 'qwen', label: 'Qwen | 2.5', estimate: false },
    tokenizers: [
      { id: 'qwen', label: 'Qwen | 2.5' },
      { id: 'claude', label: 'Claude' },
      { id: 'broken', label: 'Broken' },
    ],
    countsOf: (id) => counts[id],
    hasSelection: true,
    prices: [price('ref', 'qwen'), price('other', 'claude', true)],
    referenceId: 'ref',
  });
  assert.equal(loading, 2);
  const lines = markdown.split('\n');
  assert.equal(lines[0], '**Token** `` a`b `` · id **42** · 1 byte (part of a character) — Qwen \\| 2.5');
  assert.ok(lines.includes('| Tokenizer | Line | Selection | File |'));
  assert.ok(lines.includes('| **Qwen \\| 2.5** | 3 | 7 | 120 |'));
  assert.ok(lines.includes('| Claude | … | … | … |'));
  assert.ok(lines.includes('| Broken | — | — | — |'));
  assert.ok(lines.includes('**Cost of the selection** (USD; input = sending it, output = generating it; a local model: $0)'));
  assert.ok(lines.some((line) => line.startsWith('| **ref \\| label** | 7 | ')), markdown);
  assert.ok(lines.includes('| other \\| label | … | … | … | 2026-11-01 |'));
  assert.match(markdown, /still loading: hover again in a moment\./);
  for (const command of hoverCommands) assert.ok(markdown.includes(`(command:${command})`));

  const complete = tokenHoverMarkdown({
    token: { id: 1, start: 0, end: 1, text: 'x', byteLength: 2, partial: false },
    chosen: { id: 'qwen', label: 'Qwen', estimate: true },
    tokenizers: [{ id: 'qwen', label: 'Qwen' }],
    countsOf: (id) => counts[id],
    hasSelection: false,
    prices: [price('ref', 'qwen', true)],
    referenceId: 'ref',
  });
  assert.equal(complete.loading, 0);
  assert.match(complete.markdown, /^\*\*Token\*\* `x` · id \*\*1\*\* · 2 bytes — Qwen \(estimate\)/);
  assert.match(complete.markdown, /\| \*\*ref \\\| label\*\* \| ~120 \| /);
  assert.match(complete.markdown, /\*\*Cost of the file\*\*/);
  assert.doesNotMatch(complete.markdown, /still loading/);
  assert.equal(codeSpan('``'), '``` `` ```');
});

test('the compare page: one shell with a script-free CSP, escaped text, visible whitespace, and the unavailable say why', () => {
  const text = 'a <b>\tc\n';
  const html = comparePageHtml({
    text,
    what: 'the <selection>',
    entries: [
      { tokenizer: { id: 'qwen', label: 'Qwen', estimate: true }, row: { key: 'q', state: 'ready', count: 4, spans: [{ id: 1, start: 0, end: 2, byteLength: 2 }, { id: 2, start: 2, end: 5, byteLength: 3 }, { id: 3, start: 5, end: 7, byteLength: 2 }, { id: 4, start: 7, end: 8, byteLength: 1 }] } },
      { tokenizer: { id: 'gone', label: 'Gone', estimate: false }, failure: 'unknown tokenizer "gone"' },
      { tokenizer: { id: 'bad', label: 'Bad', estimate: false }, row: { key: 'b', state: 'failed', error: 'parse <error>' } },
    ],
    reference: price('ref', 'qwen'),
    nonce: 'N0NCE',
  });
  assert.match(html, /^<!DOCTYPE html>/);
  assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'nonce-N0NCE'">/);
  assert.doesNotMatch(html, /<script/);
  assert.match(html, /8 characters of the &lt;selection&gt;\./);
  assert.match(html, /<span class="t0" title="id 1 · 2 bytes">a·<\/span><span class="t1" title="id 2 · 3 bytes">&lt;b&gt;<\/span><span class="t0" title="id 3 · 2 bytes">→c<\/span><span class="t1" title="id 4 · 1 bytes">↵<br><\/span>/);
  assert.match(html, /<td class="n">4<\/td><td class="n">2\.00<\/td>/);
  assert.match(html, /<td>gone<\/td><td colspan="4" class="muted">unavailable: unknown tokenizer &quot;gone&quot;<\/td>/);
  assert.match(html, /unavailable: parse &lt;error&gt;/);
  assert.doesNotMatch(html, /first 6,000 characters/);
  const long = comparePageHtml({ text: 'x'.repeat(maxShownChars + 1), what: 'the file', entries: [], reference: price('ref', 'qwen'), nonce: 'n' });
  assert.match(long, /first 6,000 characters/);
});
