/**
 * Markdown for model output, which is untrusted: raw HTML is escaped (`html: false`), images are
 * not rendered (a `data:` image would pass the CSP), and links become inert elements without an
 * `href` that the chat opens only through the extension, after the user confirms.
 * Pure string in, HTML string out, so the sanitising is unit-tested in Node.
 *
 * Model output can also be pathological (a repetition loop writes 10,000 nested list levels or
 * megabytes of `[`), and nothing of it may be lost or freeze the view:
 * - nesting deeper than {@link maxNesting} is flattened (its lines parsed again without their
 *   indentation), where markdown-it would drop the rest of the document;
 * - a paragraph too long or too dense in markup characters is shown as the text it is (inline
 *   parsing of 2 MB of `[` took seconds);
 * - {@link MarkdownStream} renders a streaming answer incrementally: finished top-level blocks are
 *   rendered once, only the last (growing) block again, so the work is proportional to what arrived.
 */
import MarkdownIt from 'markdown-it';
import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import c from 'highlight.js/lib/languages/c';
import cpp from 'highlight.js/lib/languages/cpp';
import csharp from 'highlight.js/lib/languages/csharp';
import diff from 'highlight.js/lib/languages/diff';
import go from 'highlight.js/lib/languages/go';
import java from 'highlight.js/lib/languages/java';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import python from 'highlight.js/lib/languages/python';
import rust from 'highlight.js/lib/languages/rust';
import typescript from 'highlight.js/lib/languages/typescript';
import xml from 'highlight.js/lib/languages/xml';
import yaml from 'highlight.js/lib/languages/yaml';
import { escapeHtml } from '../../src/core/webview/html';

// A handful of languages keeps the webview bundle small; others render as plain code.
const languages = { bash, c, cpp, csharp, diff, go, java, javascript, json, python, rust, typescript, xml, yaml };
for (const [name, definition] of Object.entries(languages)) hljs.registerLanguage(name, definition);
hljs.registerAliases(['sh', 'shell', 'zsh', 'shellscript'], { languageName: 'bash' });
hljs.registerAliases(['html', 'svg'], { languageName: 'xml' });

/** The highlighted HTML of `code` (escaped by highlight.js), or escaped plain text for unknown languages. */
export function highlightCode(code: string, language: string): string {
  const name = language.toLowerCase();
  if (name && hljs.getLanguage(name)) {
    try {
      return hljs.highlight(code, { language: name, ignoreIllegals: true }).value;
    } catch {
      // Fall through to plain text: highlighting is decoration, never a reason to drop code.
    }
  }
  return escapeHtml(code);
}

type Markdown = ReturnType<typeof MarkdownIt>;
type Token = ReturnType<Markdown['parse']>[number];
type BlockState = Parameters<Markdown['block']['tokenize']>[0];

/**
 * Container nesting markdown-it may build: 8 levels of lists (a list and its item are 2) or 16 of
 * quotes; deeper ones would also squeeze the text out of a narrow chat view.
 */
export const maxNesting = 16;
/** Paragraphs longer than this are shown as text: inline parsing costs ~2 µs a character of `[`. */
const maxInlineCharacters = 20_000;
/** ... as are long ones made mostly of markup characters (repetition loops of `*_`, `[`, backticks). */
const denseInlineCharacters = 1_000;
const markupCharacters = /[[\]*_`<>!\\~]/g;

function isPathologicalInline(content: string): boolean {
  if (content.length > maxInlineCharacters) return true;
  if (content.length < denseInlineCharacters) return false;
  return (content.match(markupCharacters)?.length ?? 0) > content.length / 2;
}

/**
 * Text of a too-deep container without its nesting: every line loses its indentation and all but its
 * last container marker (`- - - x` becomes `- x`, `>>> x` becomes `> x`), except inside fenced code,
 * whose lines lose only as much indentation as their fence's opening line did.
 */
export function flattenNesting(text: string): string {
  const out: string[] = [];
  let fence: { readonly marker: string; readonly shift: number } | undefined;
  for (const line of text.split('\n')) {
    if (fence) {
      const indent = /^ */.exec(line)?.[0].length ?? 0;
      const shifted = line.slice(Math.min(indent, fence.shift));
      out.push(shifted);
      if (shifted.trimStart().startsWith(fence.marker) && /^\s*(`{3,}|~{3,})\s*$/.test(shifted)) fence = undefined;
      continue;
    }
    const stripped = line.replace(/^\s+/, '');
    const markers = /^((?:>\s?|(?:[-*+]|\d{1,9}[.)])(?:\s+|$))+)/.exec(stripped)?.[1] ?? '';
    const lastMarker = /(>\s?|(?:[-*+]|\d{1,9}[.)])(?:\s+|$))$/.exec(markers)?.[1] ?? '';
    const flat = markers.length > lastMarker.length ? `${lastMarker.trimEnd()} ${stripped.slice(markers.length)}` : stripped;
    const opener = /^(`{3,}|~{3,})/.exec(flat.replace(/^(?:>\s?|(?:[-*+]|\d{1,9}[.)])\s+)/, ''));
    if (opener?.[1]) fence = { marker: opener[1], shift: line.length - stripped.length };
    out.push(flat);
  }
  return out.join('\n');
}

/**
 * markdown-it skips everything after the point where nesting reaches maxNesting. Here that point
 * parses the rest of its container again, flattened, into the same token stream. The re-parse
 * starts at nesting 0 and its text has no indentation left, so it cannot go deep again.
 */
function flattenTooDeep(md: Markdown): void {
  const tokenize = md.block.tokenize.bind(md.block);
  md.block.tokenize = (state: BlockState, startLine: number, endLine: number) => {
    if (state.level < maxNesting) {
      tokenize(state, startLine, endLine);
      return;
    }
    // The container's lines: up to the first non-empty line indented less than it.
    let end = startLine;
    while (end < endLine && (state.isEmpty(end) || state.sCount[end] >= state.blkIndent)) end++;
    const text = state.getLines(startLine, end, state.blkIndent, false);
    const flat = flattenNesting(text);
    if (flat.trim() !== '') md.block.parse(flat, md, state.env, state.tokens);
    state.line = end;
  };
}

function createMarkdown(): Markdown {
  const md = new MarkdownIt({ html: false, linkify: false, typographer: false, breaks: false, maxNesting });
  md.disable('image');
  flattenTooDeep(md);
  // Inline parsing, except that a pathological paragraph becomes one text token, shown as it is.
  md.core.ruler.at('inline', (state) => {
    for (const token of state.tokens) {
      if (token.type !== 'inline') continue;
      if (isPathologicalInline(token.content)) {
        const text = new state.Token('text', '', 0);
        text.content = token.content;
        token.children = [text];
      } else {
        state.md.inline.parse(token.content, state.md, state.env, (token.children ??= []));
      }
    }
  });

  md.renderer.rules.link_open = (tokens, index) => {
    const href = String(tokens[index]?.attrGet('href') ?? '');
    // No href: the webview never navigates. The click handler asks the extension to open it.
    return `<a class="md-link" role="link" tabindex="0" data-href="${escapeHtml(href)}" title="${escapeHtml(href)}">`;
  };
  md.renderer.rules.link_close = () => '</a>';

  md.renderer.rules.fence = (tokens, index) => {
    const token = tokens[index];
    if (!token) return '';
    const language = token.info.trim().split(/\s+/)[0] ?? '';
    const label = language ? `<span class="code-language">${escapeHtml(language)}</span>` : '<span class="code-language"></span>';
    const buttons: readonly (readonly [string, string, string])[] = [
      ['copy', 'Copy', 'Copy the code'],
      ['insert', 'Insert', 'Insert the code at the cursor'],
      ['replace', 'Replace', 'Replace the editor selection with the code'],
    ];
    const actions = buttons
      .map(([action, text, title]) => `<button type="button" class="code-action" data-action="${action}" title="${title}" aria-label="${title}">${text}</button>`)
      .join('');
    return `<div class="code-block"><div class="code-toolbar">${label}<span class="code-actions">${actions}</span></div><pre><code class="hljs${language ? ` language-${escapeHtml(language)}` : ''}">${highlightCode(token.content, language)}</code></pre></div>\n`;
  };
  md.renderer.rules.code_block = (tokens, index) => `<pre><code>${escapeHtml(tokens[index]?.content ?? '')}</code></pre>\n`;
  return md;
}

let markdown: Markdown | undefined;

/** Renders untrusted Markdown to HTML that holds no active content. */
export function renderMarkdown(text: string): string {
  markdown ??= createMarkdown();
  return markdown.render(text);
}

/** Where each line of `text` starts. */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let index = text.indexOf('\n'); index !== -1; index = text.indexOf('\n', index + 1)) starts.push(index + 1);
  return starts;
}

/**
 * A streaming answer rendered as it grows. Each update parses only the text after the last
 * finished top-level block: blocks followed by another block are finished (no later text can
 * change them, except a reference definition further down, which the final full render of the
 * answer applies) and come back once, in `appended`; the last block is `tail`, rendered again on
 * every update. `appended` of all updates plus the last `tail` is the full render of the text.
 */
export class MarkdownStream {
  private text = '';
  /** Offset in `text` where the unfinished part starts. */
  private stableEnd = 0;
  /** Characters given to the parser so far (the cost measure the tests check). */
  parsedCharacters = 0;

  /** `text` should extend the previous one; anything else starts over (`reset`: clear what was appended). */
  update(text: string): { appended: string; tail: string; reset: boolean } {
    markdown ??= createMarkdown();
    const reset = !text.startsWith(this.text) || text.length < this.stableEnd;
    if (reset) this.stableEnd = 0;
    this.text = text;
    const rest = text.slice(this.stableEnd);
    this.parsedCharacters += rest.length;
    const env = {};
    const tokens = markdown.parse(rest, env);
    // The last top-level block starts at the last level-0 opening (or self-contained) token with a line map.
    let lastBlock = -1;
    for (let index = tokens.length - 1; index >= 0; index--) {
      const token = tokens[index] as Token;
      if (token.level === 0 && token.map && token.nesting >= 0) {
        lastBlock = index;
        break;
      }
    }
    if (lastBlock <= 0) return { appended: '', tail: markdown.renderer.render(tokens, markdown.options, env), reset };
    const startLine = (tokens[lastBlock] as Token).map?.[0] ?? 0;
    const appended = markdown.renderer.render(tokens.slice(0, lastBlock), markdown.options, env);
    const tail = markdown.renderer.render(tokens.slice(lastBlock), markdown.options, env);
    this.stableEnd += lineStarts(rest)[startLine] ?? 0;
    return { appended, tail, reset };
  }
}

/** Line citations (`L12`, `L5-L7`) become buttons that reveal the line in the editor. */
export function linkCitations(html: string): string {
  // Only in text between tags, and never inside code: split on tags and skip <code>…</code>.
  let inCode = 0;
  return html
    .split(/(<[^>]+>)/)
    .map((part) => {
      if (part.startsWith('<')) {
        if (/^<code\b/.test(part)) inCode++;
        else if (part === '</code>') inCode = Math.max(0, inCode - 1);
        return part;
      }
      if (inCode > 0) return part;
      return part.replace(/\bL(\d{1,6})(?:\s*[-–]\s*L?(\d{1,6}))?\b/g, (match, start: string, end: string | undefined) => `<span class="citation" role="button" tabindex="0" data-start="${start}" data-end="${end ?? start}">${match}</span>`);
    })
    .join('');
}
