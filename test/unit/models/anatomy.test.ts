import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { modelAnatomy } from '../../../src/core/models/anatomy';
import { compareModels, formatBytes, formatCount, readModelsToCompare, REFERENCE_MODELS, type LocalModelFacts } from '../../../src/core/models/comparison';
import { modelInfoCommand } from '../../../src/cli/modelInfoCommand';
import { fakeIO } from '../cli/fakeIO';

const miniDir = join(__dirname, '..', '..', '..', 'models', 'tokenscope-mini');
const miniConfig = JSON.parse(readFileSync(join(miniDir, 'config.json'), 'utf8')) as Record<string, unknown>;
const miniCard = JSON.parse(readFileSync(join(miniDir, 'model-card.json'), 'utf8')) as { parameters: number; training: { tokens: number } };
const mini: LocalModelFacts = { id: 'mini', label: 'tokenscope-mini', config: miniConfig, card: miniCard, builtin: true, active: true };

test('parameter counts computed from config.json equal every reference model\'s published count', () => {
  assert.ok(REFERENCE_MODELS.length >= 5);
  for (const model of REFERENCE_MODELS) {
    const anatomy = modelAnatomy(model.config);
    assert.equal(anatomy.parameters?.total, model.parameters, model.label);
  }
});

test('the built-in model\'s computed count equals what training counted (PyTorch) and the parts add up', () => {
  const anatomy = modelAnatomy(miniConfig);
  const p = anatomy.parameters!;
  assert.equal(p.total, miniCard.parameters);
  assert.equal(p.embedding + p.attention + p.mlp + p.norms + p.lmHead, p.total);
  assert.equal(p.lmHead, 0, 'tied embeddings: no separate output head');
  assert.equal(p.embedding, (miniConfig.vocab_size as number) * (miniConfig.hidden_size as number));
});

test('untied embeddings add an output head; unknown layouts give no count rather than a guess', () => {
  const r1 = REFERENCE_MODELS.find((model) => model.config.tie_word_embeddings === false)!;
  const a = modelAnatomy(r1.config).parameters!;
  assert.equal(a.lmHead, a.embedding);
  const bigcode = modelAnatomy({ model_type: 'gpt_bigcode', n_layer: 2, n_head: 4, n_embd: 64, n_positions: 128, vocab_size: 100 });
  assert.equal(bigcode.parameters, null);
  assert.equal(bigcode.kvCacheBytesPerToken, 2 * 2 * 1 * 16 * 2, 'multi-query: one key/value head');
});

test('KV cache per token: 2 (key and value) × layers × kv heads × head dim × 2 bytes', () => {
  const qwen3 = REFERENCE_MODELS.find((model) => model.config.model_type === 'qwen3')!;
  assert.equal(modelAnatomy(qwen3.config).kvCacheBytesPerToken, 2 * 28 * 8 * 128 * 2, 'head_dim from config, not hidden/heads');
  assert.equal(modelAnatomy(miniConfig).kvCacheBytesPerToken, 2 * 5 * 2 * 32 * 2);
});

test('comparison: local models first, references by size, and insights built from the numbers', () => {
  const comparison = compareModels([mini]);
  assert.equal(comparison.models[0].label, 'tokenscope-mini');
  assert.ok(comparison.models[0].active && comparison.models[0].builtin);
  const sizes = comparison.models.slice(1).map((model) => model.parameters!);
  assert.deepEqual(sizes, [...sizes].sort((x, y) => x - y));
  const text = comparison.insights.join('\n');
  assert.match(text, /tokenscope-mini has 3\.54 M parameters/);
  assert.match(text, /44% of tokenscope-mini's parameters are its embedding table \(8,192 tokens × 192/);
  assert.match(text, /6 query heads share 2 key\/value heads/);
  assert.match(text, new RegExp(`trained on ${formatCount(miniCard.training.tokens).replace('.', '\\.')} tokens`));
});

test('a local folder that holds a reference model is marked on that row, not listed twice', () => {
  const qwen = REFERENCE_MODELS.find((model) => model.label === 'Qwen2.5-Coder-0.5B-Instruct')!;
  const folder: LocalModelFacts = { id: '/models/q', label: 'q', config: { ...qwen.config, torch_dtype: 'bfloat16' }, builtin: false, active: true };
  const comparison = compareModels([{ ...mini, active: false }, folder]);
  assert.equal(comparison.models.length, REFERENCE_MODELS.length + 1);
  const row = comparison.models.find((model) => model.id === qwen.id)!;
  assert.ok(row.active);
  assert.equal(row.label, 'Qwen2.5-Coder-0.5B-Instruct (q)');
  // Same blocks as Qwen2.5-Coder-1.5B, untied head and longer context: its own row, not the Coder's.
  const r1 = REFERENCE_MODELS.find((model) => model.label === 'DeepSeek-R1-Distill-Qwen-1.5B')!;
  const r1Rows = compareModels([{ ...mini, active: false }, { id: '/models/r1', label: 'r1', config: r1.config, builtin: false, active: true }]).models.filter((model) => model.active);
  assert.deepEqual(r1Rows.map((model) => model.label), ['DeepSeek-R1-Distill-Qwen-1.5B (r1)']);
  const other: LocalModelFacts = { id: '/models/x', label: 'x', config: { ...qwen.config, num_hidden_layers: 3 }, builtin: false, active: true };
  assert.equal(compareModels([mini, other]).models.length, REFERENCE_MODELS.length + 2);
});

test('number formatting', () => {
  assert.equal(formatCount(3542656), '3.54 M');
  assert.equal(formatCount(494032768), '494 M');
  assert.equal(formatCount(1543714304), '1.54 B');
  assert.equal(formatCount(5.5e12), '5.5 T');
  assert.equal(formatCount(950), '950');
  assert.equal(formatBytes(1280), '1.25 KiB');
  assert.equal(formatBytes(512 * 1280), '640 KiB');
  assert.equal(formatBytes(131072 * 28672), '3.5 GiB');
  assert.equal(formatBytes(100), '100 B');
});

test('tokenscope model-info prints the table and insights; --json the same data; a bad folder says what to do', async () => {
  const text = fakeIO();
  assert.equal(await modelInfoCommand.run([], text.io), 0);
  assert.match(text.stdout(), /\* tokenscope-mini\s+qwen2\s+5\s+192\s+6\/2\s+8,192\s+512\s+3\.54 M/);
  assert.match(text.stdout(), /Qwen2\.5-Coder-1\.5B-Instruct\s+qwen2\s+28\s+1536\s+12\/2\s+151,936/);
  const json = fakeIO();
  assert.equal(await modelInfoCommand.run(['--json'], json.io), 0);
  const parsed = JSON.parse(json.stdout()) as { models: { label: string; anatomy: { parameters: { total: number } } }[]; insights: string[] };
  assert.equal(parsed.models[0].anatomy.parameters.total, miniCard.parameters);
  assert.ok(parsed.insights.length >= 4);
  await assert.rejects(modelInfoCommand.run(['--model', '/nonexistent/model'], fakeIO().io), /config\.json does not exist: choose a Hugging Face model folder/);
});

test('the models to compare: mini alone, mini and a folder, or mini and the reason a folder cannot be shown', async () => {
  const packageRoot = join(__dirname, '..', '..', '..');
  const alone = await readModelsToCompare({ packageRoot, reference: 'mini' });
  assert.deepEqual(alone.locals.map((model) => [model.label, model.builtin, model.active]), [['tokenscope-mini', true, true]]);
  assert.equal(alone.problem, undefined);
  const folder = await readModelsToCompare({ packageRoot, reference: 'test/fixtures/models/tiny-qwen2', cwd: packageRoot });
  assert.deepEqual(folder.locals.map((model) => [model.label, model.builtin, model.active]), [['tokenscope-mini', true, false], ['tiny-qwen2', false, true]]);
  const broken = await readModelsToCompare({ packageRoot, reference: '/nonexistent/model' });
  assert.deepEqual(broken.locals.map((model) => [model.label, model.active]), [['tokenscope-mini', true]]);
  assert.match(broken.problem ?? '', /^The configured model \(\/nonexistent\/model\) cannot be shown: .*config\.json does not exist/);
});
