import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatTraceDocument } from '../../../src/core/chat/traceFormat';

const root = join(__dirname, '..', '..', '..');
const grammar = JSON.parse(readFileSync(join(root, 'syntaxes', 'tokenscope-trace.tmLanguage.json'), 'utf8')) as {
  scopeName: string;
  repository: Record<string, { begin?: string; match?: string; patterns?: { begin?: string }[] }>;
};
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  contributes: { languages?: { id: string; extensions?: string[] }[]; grammars?: { language: string; scopeName: string; path: string }[] };
};

const doc = formatTraceDocument({
  title: 'Explain sample/retry.ts:2-14',
  model: 'Replay',
  createdAt: Date.UTC(2026, 10, 23, 17, 0, 0),
  thinking: { text: 'L3 keeps the error.\n```ts\nconst x = 1;\n```', tokens: 42, durationMs: 1500, complete: true },
  answer: '**Summary:** it retries (L5-L7).',
  stats: { promptTokens: 10, generatedTokens: 52, totalMs: 2000 },
  stopReason: 'stop',
});

/** The grammar's regexes use only syntax JS shares with Oniguruma (the `\\2` back-reference aside). */
const regex = (source: string | undefined) => new RegExp(source ?? '(?!)', 'm');

test('trace document: header, thinking section with its numbers, answer section', () => {
  assert.match(doc, /^Tokenscope reasoning trace\nPrompt: Explain sample\/retry\.ts:2-14\nModel: Replay\nDate: 2026-11-23 17:00:00 UTC\nStats: 10 prompt · 52 generated\n/);
  assert.match(doc, /\n━━ Thinking · 42 tokens · 1\.5 s ━━\nL3 keeps the error\.\n```ts\nconst x = 1;\n```\n\n━━ Answer ━━\n\*\*Summary:\*\* it retries \(L5-L7\)\.\n$/);
  assert.match(formatTraceDocument({ title: 't', model: 'm', createdAt: 0, answer: 'a', stopReason: 'length' }), /Status: stopped \(length\)[\s\S]*━━ Thinking ━━\n\(this model wrote no reasoning trace/);
});

test('grammar: contributed for the tokenscope-trace language, and its section rules match the document', () => {
  assert.ok(manifest.contributes.languages?.some((l) => l.id === 'tokenscope-trace' && l.extensions?.includes('.tokenscope-trace')));
  const contribution = manifest.contributes.grammars?.find((g) => g.language === 'tokenscope-trace');
  assert.equal(contribution?.scopeName, grammar.scopeName);
  assert.equal(contribution?.path, './syntaxes/tokenscope-trace.tmLanguage.json');
  assert.match(doc, regex(grammar.repository.thinking?.begin));
  assert.match(doc, regex(grammar.repository.answer?.begin));
  const citation = new RegExp(grammar.repository.citation?.match ?? '(?!)', 'g');
  assert.deepEqual(doc.match(citation), ['L3', 'L5-L7']);
  const fenceBegin = grammar.repository.fencedCode?.patterns?.[0]?.begin;
  assert.match('```ts', regex(fenceBegin));
});
