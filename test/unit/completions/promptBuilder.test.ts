import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TextLines } from '../../../src/core/completions/document';
import { ExtraContextBuffer, jaccard } from '../../../src/core/completions/extraContext';
import { fimTemplates } from '../../../src/core/completions/fimTemplates';
import { buildPrompt, defaultPromptBudget, extractWindow, LineTokenCounter, windowKey, type PromptBudget } from '../../../src/core/completions/promptBuilder';
import { CharTokenizer, qwenSpecials } from './fakes';

const tokenizer = new CharTokenizer(qwenSpecials);
const template = fimTemplates['qwen2.5-coder'];
// 600 numbered lines of 9 characters ("line 0042"), i.e. 10 tokens each with the line break.
const document = new TextLines(Array.from({ length: 600 }, (_, index) => `line ${String(index).padStart(4, '0')}`).join('\n'));

function build(line: number, character: number, budget: Partial<PromptBudget> = {}, extra?: ExtraContextBuffer) {
  const fullBudget = { ...defaultPromptBudget, ...budget };
  const window = extractWindow(document, { line, character }, fullBudget, 'numbers.txt');
  return { window, prompt: buildPrompt(window, { tokenizer, template, budget: fullBudget, contextLength: 32768, maxTokens: 48, counter: new LineTokenCounter(tokenizer), extraChunks: extra?.snapshot('numbers.txt') }) };
}

test('the line window defaults to about 256 lines before and 64 after, aligned', () => {
  const { window } = build(300, 4, { windowTokens: 100000 });
  assert.equal(window.linePrefix, 'line');
  assert.equal(window.lineSuffix, ' 0300');
  // 300 - 256 = 44, aligned up to 48: the start stays put while the cursor moves within 16 lines.
  assert.equal(window.startLine, 48);
  assert.equal(extractWindow(document, { line: 303, character: 0 }, defaultPromptBudget).startLine, 48);
  assert.ok(window.prefix.startsWith('line 0048\n'));
  assert.ok(window.suffix.endsWith('\nline 0364'));
  assert.equal(window.nextLines.length, 64);
});

test('the token budget is split 3/4 prefix, 1/4 suffix, cutting far ends at line boundaries', () => {
  const { prompt } = build(300, 9, { windowTokens: 400 });
  assert.ok(prompt.prefixTokens <= 300, `prefix ${prompt.prefixTokens}`);
  assert.ok(prompt.suffixTokens <= 100, `suffix ${prompt.suffixTokens}`);
  assert.ok(prompt.prefixTokens + prompt.suffixTokens <= 400);
  // Whole lines only, ending at the cursor / starting after it.
  assert.match(prompt.prefixText, /^line \d{4}\n/);
  assert.ok(prompt.prefixText.endsWith('line 0299\nline 0300'));
  assert.match(prompt.suffixText, /^\nline 0301\n(line \d{4}\n)*line \d{4}$/);
  // The prefix's first line is aligned so that typing on the next lines reuses the same prompt start.
  const firstLine = Number(prompt.prefixText.slice(5, 9));
  assert.equal(firstLine % 16, 0);
  // Typing on the same line, or the next one, keeps the prompt start (and the model's KV cache of it).
  assert.ok(build(300, 2, { windowTokens: 400 }).prompt.prefixText.startsWith(prompt.prefixText.slice(0, 10)));
  assert.ok(build(301, 9, { windowTokens: 400 }).prompt.prefixText.startsWith(prompt.prefixText.slice(0, 10)));
});

test('unused suffix budget flows to the prefix and vice versa', () => {
  const nearEnd = build(598, 9, { windowTokens: 500 }).prompt;
  assert.ok(nearEnd.suffixTokens <= 11);
  assert.ok(nearEnd.prefixTokens > 375, `prefix got the spare budget: ${nearEnd.prefixTokens}`);
  const nearStart = build(2, 9, { windowTokens: 400 }).prompt;
  assert.equal(nearStart.prefixTokens, 29);
  assert.ok(nearStart.suffixTokens > 100, `suffix got the spare budget: ${nearStart.suffixTokens}`);
});

test('the budget is capped by the model context minus the generated tokens', () => {
  const window = extractWindow(document, { line: 300, character: 9 }, defaultPromptBudget);
  const prompt = buildPrompt(window, { tokenizer, template, budget: defaultPromptBudget, contextLength: 256, maxTokens: 48, counter: new LineTokenCounter(tokenizer) });
  assert.ok(prompt.ids.length + 48 <= 256, `prompt ${prompt.ids.length}`);
  assert.throws(() => buildPrompt(window, { tokenizer, template, budget: defaultPromptBudget, contextLength: 60, maxTokens: 48, counter: new LineTokenCounter(tokenizer) }), /lower tokenscope\.completions\.maxTokens/);
});

test('prompt ids are exactly the template around the cut text, with the stop ids resolved', () => {
  const { prompt } = build(10, 9, { windowTokens: 1000 });
  assert.equal(tokenizer.decode(prompt.ids), `<|fim_prefix|>${prompt.prefixText}<|fim_suffix|>${prompt.suffixText}<|fim_middle|>`);
  // Documented stops, then the template's own control tokens (a generated <|fim_prefix|> means the hole is left).
  assert.deepEqual(prompt.stopStrings, ['<|endoftext|>', '<|fim_pad|>', '<|file_sep|>', '<|im_start|>', '<|im_end|>', '<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>', '<|repo_name|>']);
  assert.deepEqual(prompt.stopTokenIds, prompt.stopStrings.map((token) => tokenizer.specialTokens.get(token)));
});

test('a single over-long cursor line keeps its end', () => {
  const long = new TextLines(`const data = "${'x'.repeat(5000)}";`);
  const window = extractWindow(long, { line: 0, character: 5000 }, defaultPromptBudget);
  const prompt = buildPrompt(window, { tokenizer, template, budget: { ...defaultPromptBudget, windowTokens: 200 }, contextLength: 4096, maxTokens: 48, counter: new LineTokenCounter(tokenizer) });
  assert.ok(prompt.prefixTokens <= 200);
  assert.ok(window.prefix.endsWith(prompt.prefixText));
});

test('window keys differ when text before or after the cursor differs', () => {
  assert.equal(windowKey('abc', 'def'), windowKey('abc', 'def'));
  assert.notEqual(windowKey('abc', 'def'), windowKey('abd', 'def'));
  assert.notEqual(windowKey('abc', 'def'), windowKey('abc', 'dee'));
  assert.notEqual(windowKey('ab', 'cdef'), windowKey('abc', 'def'));
});

test('extra context: bounded ring buffer, near-duplicates evicted, emitted as repo context', () => {
  const buffer = new ExtraContextBuffer({ maxChunks: 3, chunkLines: 4, duplicateSimilarity: 0.5 });
  const lines = (tag: string) => Array.from({ length: 10 }, (_, index) => `${tag} ${index}`);
  buffer.addFromLines('a.ts', lines('a'), 0);
  buffer.addFromLines('b.ts', lines('b'), 0);
  buffer.addFromLines('c.ts', lines('c'), 0);
  buffer.addFromLines('d.ts', lines('d'), 0);
  assert.deepEqual(buffer.snapshot().map((chunk) => chunk.path), ['b.ts', 'c.ts', 'd.ts']);
  // The same region of b.ts seen again after a small edit replaces the old chunk instead of adding one.
  buffer.add('b.ts', 'b 0\nb 1\nb 2\nb 3 edited');
  assert.deepEqual(buffer.snapshot().map((chunk) => chunk.path), ['c.ts', 'd.ts', 'b.ts']);
  assert.equal(buffer.add('e.ts', '\n   \n'), false);
  assert.equal(jaccard(new Set(['x', 'y']), new Set(['y', 'z'])), 1 / 3);

  const { prompt } = build(10, 9, { windowTokens: 1000, extraContextTokens: 1000 }, buffer);
  const rendered = tokenizer.decode(prompt.ids);
  assert.ok(rendered.startsWith('<|repo_name|>workspace\n<|file_sep|>c.ts\nc 0\nc 1\nc 2\nc 3\n<|file_sep|>d.ts\n'), rendered.slice(0, 120));
  assert.ok(rendered.includes('<|file_sep|>numbers.txt\n<|fim_prefix|>'));
  assert.equal(prompt.extraChunks, 3);
  // No repository context for families without it, or with a zero budget.
  assert.equal(build(10, 9, { extraContextTokens: 0 }, buffer).prompt.extraChunks, 0);
});

test('long lines: when an aligned block does not fit, lines are given back one by one', () => {
  const long = new TextLines(Array.from({ length: 100 }, (_, index) => `${String(index).padStart(3, '0')} ${'x'.repeat(95)}`).join('\n'));
  const window = extractWindow(long, { line: 80, character: 99 }, defaultPromptBudget);
  const budget = { ...defaultPromptBudget, windowTokens: 400 };
  const prompt = buildPrompt(window, { tokenizer, template, budget, contextLength: 4096, maxTokens: 48, counter: new LineTokenCounter(tokenizer) });
  // 100 tokens a line: a 16-line block is 1600 tokens, far over the prefix's 300; still 3 lines fit.
  assert.ok(prompt.prefixTokens >= 200 && prompt.prefixTokens <= 300, `prefix ${prompt.prefixTokens}`);
  assert.match(prompt.prefixText, /^07[89] x/);
});

test('a suffix cap (slow model) shortens the recomputed suffix and gives the prefix the rest', () => {
  const capped = build(300, 9, { windowTokens: 500 });
  const window = extractWindow(document, { line: 300, character: 9 }, defaultPromptBudget);
  const prompt = buildPrompt(window, { tokenizer, template, budget: { ...defaultPromptBudget, windowTokens: 500 }, contextLength: 32768, maxTokens: 48, counter: new LineTokenCounter(tokenizer), maxSuffixTokens: 32 });
  assert.ok(prompt.suffixTokens <= 32 && prompt.suffixTokens >= 21, `suffix ${prompt.suffixTokens}`);
  assert.ok(prompt.prefixTokens > capped.prompt.prefixTokens, `prefix ${prompt.prefixTokens} > ${capped.prompt.prefixTokens}`);
  assert.ok(prompt.prefixTokens + prompt.suffixTokens <= 500);
});
