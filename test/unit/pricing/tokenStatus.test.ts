import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildPriceTable } from '../../../src/core/pricing/cost';
import { tokenStatusSummary } from '../../../src/core/pricing/tokenStatus';

const models = buildPriceTable([]).models;
const gpt4o = models.find((model) => model.id === 'gpt-4o');
const claude = models.find((model) => model.tokenizer === 'claude');

test('the cost on the status item follows the count it was computed from', () => {
  assert.ok(gpt4o);
  // The issue's case: the built-in tokenizer counts 234, GPT-4o's own tokenizer 186; the cost is 186 tokens'.
  const different = tokenStatusSummary({
    what: 'file',
    count: 234,
    tokenizer: { id: 'model', label: 'Local model: Tokenscope mini (built-in)', estimate: false },
    reference: gpt4o,
    referenceTokenizerLabel: 'OpenAI o200k_base',
    referenceCount: 186,
  });
  // 186 tokens at $2.50 per million: $0.000465, shown with two significant digits.
  assert.equal(gpt4o.inputPerMTok, 2.5);
  const cost186 = '$0.00047';
  assert.equal(different.text, `234 tok · GPT-4o 186 tok · ${cost186} · <1%`);
  const tooltip = different.tooltip.join('\n');
  assert.match(tooltip, /Tokens in the file\*\*: 234 — Local model: Tokenscope mini \(built-in\), the tokenizer of boundaries and hovers/);
  assert.match(tooltip, /GPT-4o\*\* \(the reference model for costs\): 186 tokens in its tokenizer, OpenAI o200k_base/);
  assert.match(tooltip, /The two counts differ because each tokenizer splits text its own way/);
  // The same tokenizer: one count, and its cost beside it.
  const same = tokenStatusSummary({ what: 'selection', count: 186, tokenizer: { id: 'o200k_base', label: 'OpenAI o200k_base', estimate: false }, reference: gpt4o, referenceTokenizerLabel: 'OpenAI o200k_base', referenceCount: 186 });
  assert.equal(same.text, `186 tok · ${cost186} · <1%`);
  assert.doesNotMatch(same.tooltip.join('\n'), /differ/);
  assert.match(same.tooltip[0], /Tokens in the selection/);
  // Different tokenizers that happen to agree: both labelled, no talk of a difference.
  const agree = tokenStatusSummary({ what: 'file', count: 210, tokenizer: { id: 'qwen2.5', label: 'Qwen2.5 / Qwen3', estimate: false }, reference: gpt4o, referenceTokenizerLabel: 'OpenAI o200k_base', referenceCount: 210 });
  assert.match(agree.text, /^210 tok · GPT-4o 210 tok · /);
  assert.doesNotMatch(agree.tooltip.join('\n'), /differ/);
});

test('estimates are marked, and loading or broken tokenizers say so instead of a number', () => {
  assert.ok(claude && gpt4o);
  const estimated = tokenStatusSummary({ what: 'file', count: 10, tokenizer: { id: 'mini', label: 'Tokenscope mini', estimate: false }, reference: claude, referenceTokenizerLabel: 'Claude (estimate)', referenceCount: 12 });
  assert.match(estimated.text, new RegExp(`^10 tok · ${claude.label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} ~12 tok · \\$`));
  assert.match(estimated.tooltip.join('\n'), /a stand-in: an estimate/);
  const loading = tokenStatusSummary({ what: 'file', count: undefined, tokenizer: { id: 'qwen2.5', label: 'Qwen2.5 / Qwen3', estimate: false }, reference: gpt4o, referenceTokenizerLabel: 'OpenAI o200k_base', referenceCount: undefined });
  assert.equal(loading.text, '… tok');
  assert.match(loading.tooltip.join('\n'), /loading…/);
  const broken = tokenStatusSummary({ what: 'file', count: undefined, tokenizer: { id: 'model', label: 'Local model: /x', estimate: false, problem: 'no tokenizer.json' }, reference: gpt4o, referenceTokenizerLabel: 'OpenAI o200k_base', referenceCount: 5 });
  assert.match(broken.text, /^\? tok · GPT-4o 5 tok/);
  assert.match(broken.tooltip[0], /unavailable \(no tokenizer\.json\)/);
});
