/**
 * Markdown for model output, which is untrusted: raw HTML is escaped (`html: false`), images are
 * not rendered (a `data:` image would pass the CSP), and links become inert elements without an
 * `href` that the chat opens only through the extension, after the user confirms.
 * Pure string in, HTML string out, so the sanitising is unit-tested in Node.
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

// A handful of languages keeps the webview bundle small; others render as plain code.
const languages = { bash, c, cpp, csharp, diff, go, java, javascript, json, python, rust, typescript, xml, yaml };
for (const [name, definition] of Object.entries(languages)) hljs.registerLanguage(name, definition);
hljs.registerAliases(['sh', 'shell', 'zsh', 'shellscript'], { languageName: 'bash' });
hljs.registerAliases(['html', 'svg'], { languageName: 'xml' });

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

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

function createMarkdown(): Markdown {
  const md = new MarkdownIt({ html: false, linkify: false, typographer: false, breaks: false });
  md.disable('image');

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
