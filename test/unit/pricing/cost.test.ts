import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PRICED_MODELS } from '../../../src/core/pricing/prices';
import { buildPriceTable, contextShare, estimateCost, formatUSD, priceTableFor, referenceCostEstimator, tokensToUSD, usageCost } from '../../../src/core/pricing/cost';
import { BUILTIN_TOKENIZERS } from '../../../src/core/tokenizers/registry';

test('every price entry is dated, sourced, mapped to a known tokenizer and sane', () => {
  const tokenizerIds = new Set(BUILTIN_TOKENIZERS.map((entry) => entry.id));
  const ids = new Set<string>();
  for (const model of PRICED_MODELS) {
    assert.ok(!ids.has(model.id), `duplicate id ${model.id}`);
    ids.add(model.id);
    assert.match(model.asOf, /^20\d\d-\d\d-\d\d$/, `${model.id} asOf`);
    assert.ok(!Number.isNaN(Date.parse(model.asOf)));
    assert.match(model.source, /^https:\/\//, `${model.id} source`);
    assert.ok(tokenizerIds.has(model.tokenizer), `${model.id} tokenizer ${model.tokenizer}`);
    assert.ok(model.inputPerMTok > 0 && model.outputPerMTok >= model.inputPerMTok, `${model.id} prices`);
    if (model.cachedInputPerMTok !== undefined) assert.ok(model.cachedInputPerMTok < model.inputPerMTok, `${model.id} cached < input`);
    assert.ok(Number.isInteger(model.contextWindow) && model.contextWindow >= 16_000);
    // A stand-in tokenizer must be labelled an estimate.
    if (['Google', 'Mistral', 'Anthropic'].includes(model.provider)) assert.equal(model.tokenizerEstimate, true, model.id);
  }
  for (const provider of ['OpenAI', 'Anthropic', 'Google', 'DeepSeek', 'Mistral', 'Qwen (Alibaba Cloud)']) {
    assert.ok(PRICED_MODELS.some((model) => model.provider === provider), `covers ${provider}`);
  }
  for (const id of ['gpt-4o', 'gpt-4o-mini', 'gpt-4.1', 'gpt-4.1-mini', 'o3', 'o4-mini', 'gpt-5', 'gemini-2.5-pro', 'gemini-2.5-flash', 'deepseek-chat', 'deepseek-reasoner']) {
    assert.ok(ids.has(id), `has ${id}`);
  }
});

test('tokens to dollars', () => {
  assert.equal(tokensToUSD(1_000_000, 2.5), 2.5);
  assert.equal(tokensToUSD(0, 10), 0);
  const gpt4o = PRICED_MODELS.find((model) => model.id === 'gpt-4o');
  assert.ok(gpt4o);
  const cost = estimateCost(gpt4o, 1234);
  assert.ok(Math.abs(cost.inputUSD - 0.003085) < 1e-12);
  assert.ok(Math.abs((cost.cachedInputUSD as number) - 0.0015425) < 1e-12);
  assert.ok(Math.abs(cost.outputUSD - 0.01234) < 1e-12);
  const mistral = PRICED_MODELS.find((model) => model.provider === 'Mistral');
  assert.equal(mistral && estimateCost(mistral, 10).cachedInputUSD, undefined, 'no cached price where the provider has none');
  assert.equal(contextShare(64_000, 128_000), 0.5);
});

test('a usage is priced prompt as input, generated as output; the reference estimator prices on that model alone', () => {
  const gpt4o = PRICED_MODELS.find((model) => model.id === 'gpt-4o');
  assert.ok(gpt4o);
  const usage = { promptTokens: 2_000, generatedTokens: 500 };
  const line = usageCost(usage, gpt4o);
  assert.equal(line.model, 'gpt-4o');
  assert.ok(Math.abs(line.usd - (2_000 * gpt4o.inputPerMTok + 500 * gpt4o.outputPerMTok) / 1e6) < 1e-15);
  const table = buildPriceTable([{ id: 'gpt-4o', inputPerMTok: 1, outputPerMTok: 4 }]);
  assert.deepEqual(referenceCostEstimator(table, 'gpt-4o')?.(usage), [{ model: 'gpt-4o', usd: 0.004 }], 'the overridden price, not the built-in one');
  assert.equal(referenceCostEstimator(table, 'unpriced-model'), undefined);
});

test('the price table for a settings value is rebuilt only when the value changes', () => {
  const first = priceTableFor([{ id: 'mine', inputPerMTok: 1, outputPerMTok: 2 }]);
  assert.equal(priceTableFor([{ id: 'mine', inputPerMTok: 1, outputPerMTok: 2 }]), first, 'an equal value reuses the table');
  const changed = priceTableFor([{ id: 'mine', inputPerMTok: 3, outputPerMTok: 2 }]);
  assert.notEqual(changed, first);
  assert.equal(changed.models.find((model) => model.id === 'mine')?.inputPerMTok, 3);
  assert.equal(priceTableFor(undefined).models.length, PRICED_MODELS.length);
});

test('money formatting stays readable for tiny and large amounts', () => {
  assert.equal(formatUSD(0), '$0');
  assert.equal(formatUSD(0.000042), '$0.000042');
  assert.equal(formatUSD(0.0000425), '$0.000043');
  assert.equal(formatUSD(0.003085), '$0.0031');
  assert.equal(formatUSD(0.0123456), '$0.0123');
  assert.equal(formatUSD(0.5), '$0.5');
  assert.equal(formatUSD(1.5), '$1.50');
  assert.equal(formatUSD(12345.678), '$12,345.68');
  assert.equal(formatUSD(1e-12), '<$0.0000000001');
  assert.equal(formatUSD(Number.NaN), '—');
});

test('settings override a built-in model field by field and add new models', () => {
  const table = buildPriceTable([
    { id: 'gpt-4o', inputPerMTok: 2, outputPerMTok: 8 },
    { id: 'my-local-api', label: 'Team vLLM', tokenizer: 'qwen2.5', inputPerMTok: 0.05, outputPerMTok: 0.1, contextWindow: 32768, asOf: '2025-07-01', source: 'https://wiki.example/prices' },
    { id: 'cheap', inputPerMTok: 0, outputPerMTok: 0 },
  ]);
  assert.deepEqual(table.problems, []);
  const gpt4o = table.models.find((model) => model.id === 'gpt-4o');
  assert.equal(gpt4o?.inputPerMTok, 2);
  assert.equal(gpt4o?.outputPerMTok, 8);
  assert.equal(gpt4o?.cachedInputPerMTok, 1.25, 'fields not given keep the built-in value');
  assert.equal(gpt4o?.tokenizer, 'o200k_base');
  assert.equal(gpt4o?.asOf, 'your settings', 'an overridden price is not dated by us');
  const added = table.models.find((model) => model.id === 'my-local-api');
  assert.deepEqual(
    { label: added?.label, tokenizer: added?.tokenizer, estimate: added?.tokenizerEstimate, context: added?.contextWindow, asOf: added?.asOf, provider: added?.provider },
    { label: 'Team vLLM', tokenizer: 'qwen2.5', estimate: false, context: 32768, asOf: '2025-07-01', provider: 'Custom' },
  );
  const cheap = table.models.find((model) => model.id === 'cheap');
  assert.equal(cheap?.tokenizer, 'o200k_base');
  assert.equal(cheap?.tokenizerEstimate, true, 'a model without a tokenizer is counted with a stand-in: an estimate');
  assert.equal(table.models.length, PRICED_MODELS.length + 2);
});

test('bad settings give messages that name the entry, the field and the fix', () => {
  assert.match(buildPriceTable({ id: 'x' }).problems[0], /tokenscope\.cost\.customModels must be a list of models/);
  const table = buildPriceTable([
    'gpt-4o',
    { inputPerMTok: 1, outputPerMTok: 2 },
    { id: 'new-model', inputPerMTok: '3', outputPerMTok: 4 },
    { id: 'gpt-4o', inputPerMTok: -1, tokenizer: 'gpt4', contextWindow: 1.5, asOf: 'yesterday', price: 3 },
    { id: 'half', inputPerMTok: 1 },
  ]);
  const text = table.problems.join('\n');
  assert.match(text, /customModels\[0\] must be an object like \{ "id"/);
  assert.match(text, /customModels\[1\]: "id" must be a non-empty string/);
  assert.match(text, /customModels\[2\] \("new-model"\): "inputPerMTok" must be a number >= 0 \(USD per million input tokens\), got "3"/);
  assert.match(text, /customModels\[2\] \("new-model"\) was skipped/);
  assert.match(text, /customModels\[3\] \("gpt-4o"\): "inputPerMTok" must be a number >= 0/);
  assert.match(text, /"tokenizer" must be one of model, mini, qwen2\.5, .*got "gpt4"/);
  assert.match(text, /"contextWindow" must be a whole number/);
  assert.match(text, /"asOf" must be a date like "2025-06-30", got "yesterday"/);
  assert.match(text, /unknown field "price"/);
  assert.match(text, /customModels\[4\] \("half"\): "outputPerMTok" is required/);
  assert.ok(!table.models.some((model) => model.id === 'new-model' || model.id === 'half'));
  // The override with a bad price kept the built-in price rather than a negative one.
  assert.equal(table.models.find((model) => model.id === 'gpt-4o')?.inputPerMTok, 2.5);
});
