import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, writeModelFolder } from '../../../tools/make-test-models';
import { resolveModelReference } from '../../../src/core/models/catalog';
import { ModelError, type ModelErrorCode } from '../../../src/core/models/errors';
import { chooseVariant, readModelFolder } from '../../../src/core/models/modelFolder';
import { LocalModel } from '../../../src/core/runtime/localModel';
import { sessionLoadError } from '../../../src/core/runtime/onnxSession';
import { copyFixture, fixture, repoRoot, tempDir } from './helpers';

function load(dir: string, variant: 'auto' | 'fp32' | 'fp16' | 'q4' | 'int8' = 'auto'): Promise<LocalModel> {
  return LocalModel.load({ model: dir, variant, threads: 1 }, { packageRoot: repoRoot });
}

async function rejectsWith(promise: Promise<unknown>, code: ModelErrorCode, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ModelError, `expected ModelError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.match(error.message, pattern);
    return true;
  });
}

/** Loads a scratch copy of a fixture after `damage` changed it; asserts the error. */
async function damaged(name: string, damage: (dir: string) => void, code: ModelErrorCode, pattern: RegExp, variant: 'auto' | 'fp32' = 'auto'): Promise<void> {
  const copy = copyFixture(name);
  try {
    damage(copy.dir);
    await rejectsWith(load(copy.dir, variant), code, pattern);
  } finally {
    copy.cleanup();
  }
}

test('variant choice: auto prefers q4 on CPU; explicit variants; model_quantized.onnx counts as int8', () => {
  const dir = fixture('tiny-qwen2');
  assert.equal(chooseVariant(dir, 'auto').variant, 'q4');
  assert.match(chooseVariant(dir, 'fp16').path, /model_fp16\.onnx$/);
  assert.match(chooseVariant(dir, 'fp32').path, /onnx[\\/]model\.onnx$/);
  assert.deepEqual(chooseVariant(dir, 'auto').available.sort(), ['fp16', 'fp32', 'q4']);
  assert.throws(() => chooseVariant(dir, 'int8'), (error: unknown) => error instanceof ModelError && error.code === 'missing-variant' && /Available: .*fp32/.test(error.message));
  const copy = copyFixture('tiny-qwen2');
  try {
    copyFileSync(join(copy.dir, 'onnx', 'model.onnx'), join(copy.dir, 'onnx', 'model_quantized.onnx'));
    assert.match(chooseVariant(copy.dir, 'int8').path, /model_quantized\.onnx$/);
    rmSync(join(copy.dir, 'onnx', 'model_q4.onnx'));
    assert.equal(chooseVariant(copy.dir, 'auto').variant, 'int8');
  } finally {
    copy.cleanup();
  }
});

test('a folder with the .onnx at its root (no onnx/ subfolder) loads', async () => {
  const copy = copyFixture('tiny-bigcode');
  try {
    renameSync(join(copy.dir, 'onnx', 'model.onnx'), join(copy.dir, 'model.onnx'));
    rmSync(join(copy.dir, 'onnx'), { recursive: true });
    const model = await load(copy.dir);
    assert.equal(model.info.variant, 'fp32');
    await model.dispose();
  } finally {
    copy.cleanup();
  }
});

test('model info describes the folder and the graph', async () => {
  const model = await load(fixture('tiny-qwen3'));
  try {
    assert.equal(model.info.modelType, 'qwen3');
    assert.equal(model.info.numKvHeads, 2);
    assert.equal(model.info.headDim, 16);
    assert.ok(model.info.graphInputs.includes('num_logits_to_keep'));
    assert.ok(model.info.weightBytes > readFileSync(join(fixture('tiny-qwen3'), 'onnx', 'model.onnx')).length, 'external data counted');
    assert.equal(model.info.templateSupportsThinking, true);
    assert.equal(model.info.specialTokens['<|im_end|>'], model.tokenizer.specialTokens.get('<|im_end|>'));
    assert.deepEqual(model.info.eosTokenIds, [model.tokenizer.specialTokens.get('<|im_end|>'), model.tokenizer.specialTokens.get('<|endoftext|>')]);
  } finally {
    await model.dispose();
  }
});

test('missing folder and missing files name the file and the fix', async () => {
  await rejectsWith(load(join(repoRoot, 'no-such-model')), 'not-found', /does not exist.*tokenscope\.model/);
  await damaged('tiny-qwen2', (dir) => rmSync(join(dir, 'config.json')), 'missing-file', /config\.json is missing.*Download/);
  await damaged('tiny-qwen2', (dir) => rmSync(join(dir, 'tokenizer.json')), 'missing-file', /tokenizer\.json is missing/);
  await damaged('tiny-qwen2', (dir) => rmSync(join(dir, 'onnx'), { recursive: true }), 'missing-file', /holds no ONNX model/);
});

test('truncated or invalid JSON is reported as such', async () => {
  const truncate = (file: string) => (dir: string) => {
    const path = join(dir, file);
    const text = readFileSync(path, 'utf8');
    writeFileSync(path, text.slice(0, Math.floor(text.length / 2)));
  };
  await damaged('tiny-qwen2', truncate('config.json'), 'invalid-json', /config\.json is not valid JSON.*truncated or corrupt/);
  await damaged('tiny-qwen2', truncate('generation_config.json'), 'invalid-json', /generation_config\.json is not valid JSON/);
  await damaged('tiny-qwen2', truncate('tokenizer_config.json'), 'invalid-json', /tokenizer_config\.json is not valid JSON/);
  await damaged('tiny-qwen2', truncate('tokenizer.json'), 'tokenizer', /tokenizer\.json/);
});

test('an unsupported architecture or incomplete config is refused with the supported list', async () => {
  const edit = (change: (config: Record<string, unknown>) => void) => (dir: string) => {
    const path = join(dir, 'config.json');
    const config = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    change(config);
    writeFileSync(path, JSON.stringify(config));
  };
  await damaged('tiny-qwen2', edit((c) => (c.model_type = 'whisper')), 'unsupported-architecture', /"whisper" is not supported.*qwen2/);
  await damaged('tiny-qwen2', edit((c) => delete c.model_type), 'invalid-config', /no "model_type"/);
  await damaged('tiny-qwen2', edit((c) => delete c.num_hidden_layers), 'invalid-config', /num_hidden_layers/);
  await damaged('tiny-qwen2', edit((c) => (c.num_hidden_layers = 3)), 'unexpected-graph', /2 cache layers but config\.json says 3/, 'fp32');
});

test('corrupt, truncated and empty ONNX files are reported with the file and the fix', async () => {
  const onnx = (dir: string) => join(dir, 'onnx', 'model.onnx');
  await damaged('tiny-qwen2', (dir) => writeFileSync(onnx(dir), ''), 'corrupt-onnx', /model\.onnx is empty/, 'fp32');
  await damaged('tiny-qwen2', (dir) => writeFileSync(onnx(dir), readFileSync(onnx(dir)).subarray(0, 50000)), 'corrupt-onnx', /model\.onnx.*(not a valid ONNX|download it again)/, 'fp32');
  await damaged('tiny-qwen2', (dir) => writeFileSync(onnx(dir), Buffer.from('this is not a model at all')), 'corrupt-onnx', /model\.onnx.*download it again/i, 'fp32');
});

test('missing or truncated external data (.onnx_data) is named', async () => {
  await damaged('tiny-qwen3', (dir) => rmSync(join(dir, 'onnx', 'model.onnx_data')), 'corrupt-onnx', /external weights file.*missing.*\.onnx_data/);
  await damaged(
    'tiny-qwen3',
    (dir) => {
      const path = join(dir, 'onnx', 'model.onnx_data');
      writeFileSync(path, readFileSync(path).subarray(0, 1000));
    },
    'corrupt-onnx',
    /model\.onnx/,
  );
});

test('a tokenizer that does not belong to the model is refused at load, naming tokenizer.json (larger and smaller vocabularies)', async () => {
  const mini = join(repoRoot, 'models', 'tokenscope-mini');
  const useTokenizerOf = (source: string) => (dir: string) => {
    for (const file of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(source, file), join(dir, file));
  };
  // Larger: 8,192 ids into a model with 368 embedding rows (it used to load, then fail in ONNX Runtime's Gather, blaming model.onnx).
  await damaged('tiny-qwen2', useTokenizerOf(mini), 'tokenizer', /tokenizer\.json has token ids up to 8191, but the model has 368 \(config\.json vocab_size 368, embedding rows 368 in model\.onnx\): this tokenizer does not belong to this model\. Download tokenizer\.json and tokenizer_config\.json from the same model repository as its ONNX files\./, 'fp32');
  // The same check runs on the 4-bit variant (its embedding is a plain Gather too) and on external-data files.
  await damaged('tiny-qwen2', useTokenizerOf(mini), 'tokenizer', /embedding rows 368 in model_q4\.onnx/, 'auto');
  await damaged('tiny-qwen3', useTokenizerOf(mini), 'tokenizer', /tokenizer\.json has token ids up to 8191.*embedding rows 368 in model\.onnx/);
  // Smaller: 361 ids for a model of 8,192 (it loaded and produced gibberish).
  const copy = copyFixture('tiny-qwen2');
  const miniCopy = join(copy.dir, '..', 'mini');
  try {
    cpSync(mini, miniCopy, { recursive: true });
    useTokenizerOf(copy.dir)(miniCopy);
    await rejectsWith(load(miniCopy), 'tokenizer', /tokenizer\.json has only 361 tokens, but the model has 8192 \(config\.json vocab_size 8192, embedding rows 8192 in model\.onnx\): this tokenizer does not belong to this model \(its text would come out as gibberish\)\./);
  } finally {
    copy.cleanup();
  }
  // A config.json whose vocab_size is below the tokenizer's ids is named too.
  await damaged('tiny-qwen2', (dir) => writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')), vocab_size: 300 })), 'tokenizer', /token ids up to 360, but the model has 300 \(config\.json vocab_size 300, embedding rows 368/, 'fp32');
});

test('padding in the model vocabulary (ids a little short of vocab_size) is normal and loads', async () => {
  // tiny-qwen2: 361 tokenizer ids for 368 rows, like Qwen2.5 (151,665 for 151,936).
  const model = await load(fixture('tiny-qwen2'), 'fp32');
  await model.dispose();
});

test('a graph with unexpected inputs is not a text decoder', async () => {
  const scratch = tempDir();
  try {
    const base = FIXTURES.find((folder) => folder.name === 'tiny-bigcode')!;
    const file = base.files['model.onnx'];
    const { dir } = writeModelFolder(scratch.dir, { ...base, name: 'vision', files: { 'model.onnx': { ...file, extraInputs: [{ name: 'pixel_values', type: 'float', dims: ['batch_size', 3, 224, 224] }] } } });
    await rejectsWith(load(dir), 'unexpected-graph', /"pixel_values".*not a decoder-only/);
  } finally {
    scratch.cleanup();
  }
});

test('out-of-memory and unknown load errors get their own messages', () => {
  const oom = sessionLoadError('/m/onnx/model.onnx', new Error('std::bad_alloc'));
  assert.equal(oom.code, 'out-of-memory');
  assert.match(oom.message, /Not enough memory.*smaller variant/);
  assert.equal(sessionLoadError('/m/onnx/model.onnx', new Error('Protobuf parsing failed.')).code, 'corrupt-onnx');
  assert.equal(sessionLoadError('/m/onnx/model.onnx', new Error('Could not find an implementation for Foo(1) node')).code, 'unexpected-graph');
});

test('model references: built-in ids, paths, unknown ids', () => {
  const scratch = tempDir();
  try {
    assert.throws(() => resolveModelReference('mini', { packageRoot: scratch.dir }), /built-in model "mini" is missing/);
    mkdirSync(join(scratch.dir, 'models', 'tokenscope-mini'), { recursive: true });
    writeFileSync(join(scratch.dir, 'models', 'tokenscope-mini', 'config.json'), '{}');
    assert.equal(resolveModelReference('mini', { packageRoot: scratch.dir }).dir, join(scratch.dir, 'models', 'tokenscope-mini'));
    assert.equal(resolveModelReference('./x/y', { packageRoot: scratch.dir, cwd: '/base' }).dir, join('/base', 'x', 'y'));
    assert.equal(resolveModelReference('/abs/model', { packageRoot: scratch.dir }).dir, '/abs/model');
    assert.throws(() => resolveModelReference('qwen-nope', { packageRoot: scratch.dir }), /Unknown model "qwen-nope".*`mini`/);
    assert.throws(() => resolveModelReference('  ', { packageRoot: scratch.dir }), /No model given/);
  } finally {
    scratch.cleanup();
  }
});

test('generation defaults: generation_config eos list, else config.json eos', async () => {
  const copy = copyFixture('tiny-qwen2');
  try {
    rmSync(join(copy.dir, 'generation_config.json'));
    const folder = await readModelFolder(copy.dir, 'auto');
    const config = JSON.parse(readFileSync(join(copy.dir, 'config.json'), 'utf8')) as { eos_token_id: number };
    assert.deepEqual(folder.generation.eosTokenIds, [config.eos_token_id]);
    assert.equal(folder.generation.doSample, false);
  } finally {
    copy.cleanup();
  }
});
