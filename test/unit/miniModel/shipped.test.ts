import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { Tokenizer } from '@huggingface/tokenizers';

// Checks the built-in model as shipped (models/tokenscope-mini): every file the runtime and the model
// card need, the 16 MB budget, and that config.json, the ONNX graph and the tokenizer agree.
const dir = join(__dirname, '..', '..', '..', 'models', 'tokenscope-mini');
const MAX_BYTES = 16 * 1000 * 1000;
const REQUIRED = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx', 'README.md', 'model-card.json'];
const SPECIALS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>', '<|fim_prefix|>', '<|fim_middle|>', '<|fim_suffix|>', '<|fim_pad|>', '<|file_sep|>', '<|repo_name|>', '<think>', '</think>'];

interface Qwen2Config {
  model_type: string;
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  max_position_embeddings: number;
  rope_theta: number;
  rms_norm_eps: number;
  tie_word_embeddings: boolean;
  eos_token_id: number;
  bos_token_id: number;
  torch_dtype: string;
}

const readJson = (name: string): unknown => JSON.parse(readFileSync(join(dir, name), 'utf8'));
const config = readJson('config.json') as Qwen2Config;

function folderBytes(path: string): number {
  return readdirSync(path).reduce((sum, name) => {
    const p = join(path, name);
    return sum + (statSync(p).isDirectory() ? folderBytes(p) : statSync(p).size);
  }, 0);
}

test('tokenscope-mini ships every file and stays within 16 MB', () => {
  for (const name of REQUIRED) assert.ok(existsSync(join(dir, name)), `missing models/tokenscope-mini/${name}`);
  const bytes = folderBytes(dir);
  assert.ok(bytes <= MAX_BYTES, `models/tokenscope-mini is ${bytes} bytes, over the ${MAX_BYTES} budget`);
});

test('config.json is a consistent Qwen2 config', () => {
  assert.equal(config.model_type, 'qwen2');
  assert.equal(config.hidden_size % config.num_attention_heads, 0);
  assert.equal(config.num_attention_heads % config.num_key_value_heads, 0);
  assert.equal(config.tie_word_embeddings, true);
  assert.equal(config.torch_dtype, 'float32');
  for (const key of ['intermediate_size', 'max_position_embeddings', 'rope_theta', 'rms_norm_eps'] as const) {
    assert.ok(config[key] > 0, `${key} must be positive`);
  }
  const card = readJson('model-card.json') as { architecture: Record<string, number> };
  assert.equal(card.architecture.num_hidden_layers, config.num_hidden_layers);
  assert.equal(card.architecture.num_attention_heads, config.num_attention_heads);
  assert.equal(card.architecture.vocab_size, config.vocab_size);
});

test('the ONNX graph has the transformers.js decoder I/O that config.json describes', async () => {
  const session = await InferenceSession.create(join(dir, 'onnx', 'model.onnx'), { intraOpNumThreads: 1 });
  const layers = Array.from({ length: config.num_hidden_layers }, (_, i) => i);
  assert.deepEqual([...session.inputNames].sort(), ['input_ids', 'attention_mask', 'position_ids', ...layers.flatMap((i) => [`past_key_values.${i}.key`, `past_key_values.${i}.value`])].sort());
  assert.deepEqual([...session.outputNames].sort(), ['logits', ...layers.flatMap((i) => [`present.${i}.key`, `present.${i}.value`])].sort());
  // One token with an empty cache: the shapes must follow the config.
  const headDim = config.hidden_size / config.num_attention_heads;
  const feeds: Record<string, Tensor> = {
    input_ids: new Tensor('int64', BigInt64Array.from([BigInt(config.eos_token_id), 5n]), [1, 2]),
    attention_mask: new Tensor('int64', BigInt64Array.from([1n, 1n]), [1, 2]),
    position_ids: new Tensor('int64', BigInt64Array.from([0n, 1n]), [1, 2]),
  };
  for (const i of layers) {
    for (const kind of ['key', 'value']) feeds[`past_key_values.${i}.${kind}`] = new Tensor('float32', new Float32Array(0), [1, config.num_key_value_heads, 0, headDim]);
  }
  const out = await session.run(feeds);
  assert.deepEqual(out.logits.dims, [1, 2, config.vocab_size]);
  assert.deepEqual(out['present.0.key'].dims, [1, config.num_key_value_heads, 2, headDim]);
  assert.ok(Array.from(out.logits.data as Float32Array).every(Number.isFinite), 'logits must be finite');
});

test('the tokenizer loads with @huggingface/tokenizers and has the Qwen2.5 special tokens', () => {
  const tokenizerJson = readJson('tokenizer.json') as Record<string, unknown>;
  const tokenizerConfig = readJson('tokenizer_config.json') as Record<string, unknown>;
  const tok = new Tokenizer(tokenizerJson, tokenizerConfig);
  const ids = SPECIALS.map((s) => tok.token_to_id(s));
  for (const [i, id] of ids.entries()) {
    assert.equal(typeof id, 'number', `${SPECIALS[i]} has no id`);
    assert.ok((id as number) < config.vocab_size, `${SPECIALS[i]} id ${id} is outside the model's vocabulary`);
  }
  assert.equal(new Set(ids).size, SPECIALS.length, 'special tokens must have distinct ids');
  assert.equal(tok.token_to_id('<|endoftext|>'), config.eos_token_id);
  assert.equal(tokenizerConfig.eos_token, '<|endoftext|>');
  assert.equal(typeof tokenizerConfig.chat_template, 'string');
  const code = 'def f(x):\n    return x * 2  # ünïcode\n';
  const encoded = tok.encode(`<|fim_prefix|>${code}`).ids;
  assert.equal(encoded[0], tok.token_to_id('<|fim_prefix|>'));
  assert.ok(encoded.every((id) => id < config.vocab_size));
  assert.equal(tok.decode(encoded.slice(1)), code);
});
