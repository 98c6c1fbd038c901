/**
 * Chat markdown benchmark: what the chat view pays to render model output, before and after the
 * guards of media/chat/markdown.ts, measured side by side in one run.
 *
 *   node --import tsx bench/markdown.bench.ts          (or: npm run bench -- markdown)
 *
 * "Before" is markdown-it configured as the chat view had it (no nesting flattening, no inline
 * guard), and the streaming view as it was: the whole answer re-rendered on every update.
 * "After" is renderMarkdown() and MarkdownStream. Inputs: pathological answers (2 MB of `[`,
 * 1 M `*_` pairs, a 10,000-level nested list) and a long ordinary answer streamed 20 characters
 * per update (about what arrives between two frames).
 *
 * Results: a table here and bench/results/markdown.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import MarkdownIt from 'markdown-it';
import { highlightCode, MarkdownStream, renderMarkdown } from '../media/chat/markdown';

const root = resolve(__dirname, '..');

function time(run: () => unknown): number {
  const started = performance.now();
  run();
  return performance.now() - started;
}

// The chat's renderer as it was: the same options and code highlighting, without the guards.
const before = new MarkdownIt({ html: false, linkify: false, typographer: false, breaks: false });
before.disable('image');
before.renderer.rules.fence = (tokens, index) => {
  const token = tokens[index];
  const language = token?.info.trim().split(/\s+/)[0] ?? '';
  return `<div class="code-block"><pre><code>${highlightCode(token?.content ?? '', language)}</code></pre></div>\n`;
};

function longAnswer(sections: number): string {
  const parts: string[] = [];
  for (let index = 0; index < sections; index++) {
    parts.push(`## Step ${index}`, '', `We look at **item ${index}**, then \`value_${index}\` and [the docs](https://example.com/${index}), with *emphasis* (L${index + 1}).`, '', `1. one ${index}`, `2. two ${index}`, `   - nested ${index}`, '', '```ts', `export function f${index}(x: number): number {`, `  return x * ${index};`, '}', '```', '', `> A quote ${index}`, '');
  }
  return parts.join('\n');
}

const cases = [
  { name: '2 MB of "["', text: '['.repeat(2_000_000) },
  { name: '1 M "*_" pairs (2 MB)', text: '*_'.repeat(1_000_000) },
  { name: '10,000-level nested list', text: Array.from({ length: 10_000 }, (_, index) => `${'  '.repeat(index)}- level ${index}`).join('\n') },
  { name: 'ordinary answer, 100 KB', text: longAnswer(600).slice(0, 100_000) },
];

console.log(`load average ${loadavg()[0].toFixed(1)}`);
console.log('\nOne full render:');
console.log(`${'input'.padEnd(28)} ${'before ms'.padStart(10)} ${'after ms'.padStart(10)} ${'ratio'.padStart(8)}  kept`);
// Warm both up on an ordinary answer first (JIT, highlight.js grammars).
for (let round = 0; round < 3; round++) {
  before.render(longAnswer(50));
  renderMarkdown(longAnswer(50));
}
const full = cases.map(({ name, text }) => {
  let beforeHtml = '';
  let afterHtml = '';
  const beforeMs = time(() => (beforeHtml = before.render(text)));
  const afterMs = time(() => (afterHtml = renderMarkdown(text)));
  const words = (html: string) => (html.match(/level \d+/g) ?? []).length;
  const kept = name.includes('nested') ? `${words(beforeHtml)} -> ${words(afterHtml)} of 10000 items` : '';
  console.log(`${name.padEnd(28)} ${beforeMs.toFixed(0).padStart(10)} ${afterMs.toFixed(0).padStart(10)} ${(beforeMs / Math.max(afterMs, 0.01)).toFixed(1).padStart(7)}x  ${kept}`);
  return { name, beforeMs: Math.round(beforeMs), afterMs: Math.round(afterMs), kept };
});

// Streaming: the answer grows by 20 characters per update.
const answer = longAnswer(300);
const step = 20;
const updates = Math.ceil(answer.length / step);
const streamBeforeMs = time(() => {
  for (let end = step; end < answer.length + step; end += step) before.render(answer.slice(0, Math.min(end, answer.length)));
});
const stream = new MarkdownStream();
const updateMs: number[] = [];
const streamAfterMs = time(() => {
  for (let end = step; end < answer.length + step; end += step) updateMs.push(time(() => stream.update(answer.slice(0, Math.min(end, answer.length)))));
});
updateMs.sort((a, b) => a - b);
const p99UpdateMs = updateMs[Math.floor(updateMs.length * 0.99)] ?? 0;
const slowestUpdateMs = updateMs.at(-1) ?? 0;
console.log(`\nStreaming a ${(answer.length / 1000).toFixed(0)} KB answer, ${step} characters per update (${updates} updates):`);
console.log(`  before (whole answer every update): ${streamBeforeMs.toFixed(0)} ms`);
console.log(`  after (MarkdownStream):             ${streamAfterMs.toFixed(0)} ms  (${(streamBeforeMs / streamAfterMs).toFixed(1)}x less; update p99 ${p99UpdateMs.toFixed(1)} ms, slowest ${slowestUpdateMs.toFixed(1)} ms; parsed ${(stream.parsedCharacters / answer.length).toFixed(1)}x the answer's length)`);

mkdirSync(join(root, 'bench', 'results'), { recursive: true });
writeFileSync(
  join(root, 'bench', 'results', 'markdown.json'),
  `${JSON.stringify({ loadAverage: loadavg()[0], full, streaming: { answerCharacters: answer.length, updates, beforeMs: Math.round(streamBeforeMs), afterMs: Math.round(streamAfterMs), p99UpdateMs: Math.round(p99UpdateMs * 10) / 10, slowestUpdateMs: Math.round(slowestUpdateMs * 10) / 10, parsedPerCharacter: Math.round((stream.parsedCharacters / answer.length) * 10) / 10 } }, null, 1)}\n`,
);
console.log('written to bench/results/markdown.json');
