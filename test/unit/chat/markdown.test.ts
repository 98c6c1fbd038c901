import { test } from 'node:test';
import assert from 'node:assert/strict';
import { highlightCode, linkCitations, MarkdownStream, maxNesting, renderMarkdown } from '../../../media/chat/markdown';

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

/** Deepest nesting of list/blockquote elements in `html`. */
function maxDepth(html: string): number {
  let depth = 0;
  let deepest = 0;
  for (const [, close, name] of html.matchAll(/<(\/?)(ul|ol|blockquote)\b/g)) {
    if (name === undefined) continue;
    depth += close ? -1 : 1;
    deepest = Math.max(deepest, depth);
  }
  return deepest;
}

test('markdown: a 10,000-level nested list keeps every item and what follows it, flattened below a depth cap', () => {
  const items = Array.from({ length: 10_000 }, (_, index) => `${'  '.repeat(index)}- level ${index}`);
  const html = renderMarkdown(`${items.join('\n')}\n\n\`\`\`js\nconst after = 1;\n\`\`\`\n\nThe end.`);
  const texts = new Set([...html.matchAll(/level (\d+)/g)].map((match) => Number(match[1])));
  assert.equal(texts.size, 10_000, 'every item is there');
  assert.match(html, /<div class="code-block">[\s\S]*<span class="hljs-keyword">const<\/span> after/, 'the code block after it renders as code');
  assert.match(html, /<p>The end\.<\/p>/);
  assert.ok(maxDepth(html) <= maxNesting, `nesting capped (depth ${maxDepth(html)})`);
  assertInert(html);
});

test('markdown: deep nesting of every kind is flattened, never dropped (quotes, markers on one line, code inside)', () => {
  const quotes = renderMarkdown(`${'>'.repeat(10_000)} deep quote\n\nafter quotes`);
  assert.match(quotes, /deep quote/);
  assert.match(quotes, /after quotes/);
  // The flattened rest keeps one marker of its own: one level more at most.
  assert.ok(maxDepth(quotes) <= maxNesting + 1, `quotes capped (depth ${maxDepth(quotes)})`);
  const markers = renderMarkdown(`${'- '.repeat(10_000)}deepest item\n\nafter markers`);
  assert.match(markers, /deepest item/);
  assert.match(markers, /after markers/);
  // A fence deep inside keeps its code (and its own indentation).
  const deepFence = [...Array.from({ length: 60 }, (_, index) => `${'  '.repeat(index)}- item ${index}`), `${'  '.repeat(60)}\`\`\`python`, `${'  '.repeat(60)}def f():`, `${'  '.repeat(60)}    return 1`, `${'  '.repeat(60)}\`\`\``, '', 'tail'].join('\n');
  const fenced = renderMarkdown(deepFence);
  for (let index = 0; index < 60; index++) assert.match(fenced, new RegExp(`item ${index}(?!\\d)`));
  assert.match(fenced, /<code class="hljs language-python"><span class="hljs-keyword">def<\/span> <span class="hljs-title function_">f<\/span>\(\):\n    <span class="hljs-keyword">return<\/span>/);
  assert.match(fenced, /<p>tail<\/p>/);
});

test('markdown: 2 MB of "[" or "*_" renders as the text it is (inline markup is not parsed in such a paragraph)', () => {
  for (const text of ['['.repeat(2_000_000), '*_'.repeat(1_000_000), `Start. ${'[a]('.repeat(300_000)}`]) {
    const html = renderMarkdown(text);
    assert.equal(html, `<p>${text}</p>\n`);
  }
  // Ordinary long paragraphs keep their markup.
  const normal = 'Some *emphasis* and a [link](https://example.com). '.repeat(300);
  assert.equal((renderMarkdown(normal).match(/<em>/g) ?? []).length, 300);
});

/** A long answer in the shapes models write: headings, paragraphs, lists, code, a table, quotes. */
function longAnswer(sections: number): string {
  const parts: string[] = [];
  for (let index = 0; index < sections; index++) {
    parts.push(
      `## Step ${index}`,
      '',
      `First we look at **item ${index}**, then at \`value_${index}\` and [the docs](https://example.com/${index}).`,
      `It continues on a second line with *emphasis* (see L${index + 1}).`,
      '',
      `1. one ${index}`,
      `2. two ${index}`,
      `   - nested ${index}`,
      '',
      '```ts',
      `export function f${index}(x: number): number {`,
      `  return x * ${index};`,
      '}',
      '```',
      '',
      `> A quote ${index}`,
      '',
      '| a | b |',
      '|---|---|',
      `| ${index} | ${index * 2} |`,
      '',
    );
  }
  return parts.join('\n');
}

test('markdown stream: stable blocks + the tail render exactly what a full render gives, at every step', () => {
  const text = longAnswer(12);
  const stream = new MarkdownStream();
  let shown = '';
  let tail = '';
  for (let end = 1; end <= text.length; end += 7) {
    const update = stream.update(text.slice(0, end));
    shown += update.appended;
    tail = update.tail;
    assert.equal(shown + tail, renderMarkdown(text.slice(0, end)), `at ${end} characters`);
  }
  const last = stream.update(text);
  assert.equal(shown + last.appended + last.tail, renderMarkdown(text));
});

test('markdown stream: the work per update is the tail, not the whole answer (cost proportional to what arrived)', () => {
  const text = longAnswer(200);
  const stream = new MarkdownStream();
  for (let end = 20; end < text.length; end += 20) stream.update(text.slice(0, end));
  stream.update(text);
  const updates = Math.ceil(text.length / 20);
  // A full re-render per update would parse updates * length / 2 characters (about 40,000 x here).
  assert.ok(stream.parsedCharacters < 8 * text.length, `parsed ${stream.parsedCharacters} characters for a ${text.length}-character answer in ${updates} updates`);
  // A text that does not extend the previous one (the answer was reclassified as thinking) starts over.
  const restarted = stream.update('New text');
  assert.equal(restarted.reset, true);
  assert.equal(restarted.appended + restarted.tail, renderMarkdown('New text'));
});
