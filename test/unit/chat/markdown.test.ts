import { test } from 'node:test';
import assert from 'node:assert/strict';
import { highlightCode, linkCitations, renderMarkdown } from '../../../media/chat/markdown';

const allowedTags = new Set(['p', 'a', 'code', 'pre', 'div', 'span', 'button', 'ol', 'ul', 'li', 'strong', 'em', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'blockquote', 'hr', 'br', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 's']);
const allowedAttributes = new Set(['class', 'role', 'tabindex', 'title', 'type', 'aria-label', 'data-href', 'data-action', 'data-start', 'data-end', 'start', 'style']);

/**
 * Every real tag in `html` (escaped text is not a tag) must be an allowed element with allowed
 * attributes: no img/script/iframe, no on* handlers, no href/src.
 */
function assertInert(html: string): void {
  for (const tag of html.match(/<[^>]*>/g) ?? []) {
    const name = /^<\/?([a-z0-9]+)/i.exec(tag)?.[1]?.toLowerCase() ?? '';
    assert.ok(allowedTags.has(name), `unexpected element ${tag}`);
    for (const [, attribute] of tag.matchAll(/\s([^\s=>]+)=/g)) assert.ok(allowedAttributes.has(attribute?.toLowerCase() ?? ''), `unexpected attribute in ${tag}`);
    if (/\sstyle=/.test(tag)) assert.match(tag, /style="text-align:(left|right|center)"/);
  }
}

test('the inertness check itself rejects active markup', () => {
  assert.throws(() => assertInert('<p><img src=x onerror=alert(1)></p>'));
  assert.throws(() => assertInert('<a href="https://x">x</a>'));
  assert.throws(() => assertInert('<span onclick="x()">x</span>'));
  assertInert('<p>&lt;img src=x onerror=alert(1)&gt;</p>');
});

test('markdown: raw HTML in model output is escaped, never markup', () => {
  const html = renderMarkdown('Look: <img src=x onerror="alert(1)"> and <script>alert(2)</script>\n\n<iframe src="https://evil.example"></iframe>');
  assertInert(html);
  assert.match(html, /&lt;img src=x onerror=&quot;alert\(1\)&quot;&gt;/);
  assert.match(html, /&lt;script&gt;alert\(2\)&lt;\/script&gt;/);
});

test('markdown: links become inert elements (no href); javascript: links are not links at all', () => {
  const html = renderMarkdown('[site](https://example.com/a?b="c") and [bad](javascript:alert(1)) and <https://auto.example>');
  assertInert(html);
  assert.match(html, /<a class="md-link" role="link" tabindex="0" data-href="https:\/\/example\.com\/a\?b=%22c%22"/);
  assert.doesNotMatch(html, /data-href="javascript/);
  assert.match(html, /\[bad\]\(javascript:alert\(1\)\)/);
});

test('markdown: images are not rendered (a data: image would pass the CSP)', () => {
  const html = renderMarkdown('![x](data:image/png;base64,AAAA) ![y](https://tracker.example/p.gif)');
  assertInert(html);
});

test('markdown: code blocks are highlighted, escaped, and carry copy / insert / replace buttons', () => {
  const html = renderMarkdown('```ts\nconst a = "<b>" as string;\n```');
  assert.match(html, /<div class="code-block">/);
  for (const action of ['copy', 'insert', 'replace']) assert.match(html, new RegExp(`data-action="${action}"`));
  assert.match(html, /<span class="hljs-keyword">const<\/span>/);
  assert.match(html, /&lt;b&gt;/);
  assert.doesNotMatch(html, /<b>/);
});

test('markdown: unknown languages and fence info with markup stay plain and escaped', () => {
  assert.equal(highlightCode('<x>', 'nosuchlang'), '&lt;x&gt;');
  const html = renderMarkdown('```"><img src=x onerror=alert(1)>\nx\n```');
  assertInert(html);
});

test('markdown: an unfinished stream (open fence, half a list) still renders safely', () => {
  const html = renderMarkdown('1. first\n2. sec\n\n```python\ndef f(<script>');
  assert.match(html, /<ol>/);
  assert.match(html, /hljs-keyword">def</);
  assertInert(html);
});

test('linkCitations marks L-citations in text but not in code or attributes', () => {
  const html = linkCitations(renderMarkdown('See L3 and L5-L7, `L9` here.\n\n```\nL10\n```'));
  assert.match(html, /<span class="citation" role="button" tabindex="0" data-start="3" data-end="3">L3<\/span>/);
  assert.match(html, /data-start="5" data-end="7">L5-L7</);
  assert.doesNotMatch(html, /data-start="9"/);
  assert.doesNotMatch(html, /data-start="10"/);
});
