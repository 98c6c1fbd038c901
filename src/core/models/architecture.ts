/**
 * Reads the shape of a decoder from a Hugging Face `config.json`: what the runtime needs to build
 * an empty KV cache and to respect the context window. The graph itself is a black box; only the
 * cache layout differs between families.
 */
import { ModelError } from './errors';

export interface ModelArchitecture {
  readonly modelType: string;
  readonly numLayers: number;
  readonly numHeads: number;
  /** Key/value heads: fewer than numHeads for GQA, 1 for multi-query. */
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly hiddenSize: number;
  readonly vocabSize: number;
  /** max_position_embeddings (n_positions): prompt plus generated tokens never exceed it. */
  readonly contextLength: number;
  /** gpt_bigcode multi-query exports fuse key and value into one `key_value` cache tensor per layer. */
  readonly fusedKeyValue: boolean;
}

type Fields = 'layers' | 'heads' | 'kvHeads' | 'hidden' | 'positions';

/** Config key names per family. Families not listed here are refused with a clear message. */
const STANDARD: Record<Fields, readonly string[]> = {
  layers: ['num_hidden_layers'],
  heads: ['num_attention_heads'],
  kvHeads: ['num_key_value_heads', 'num_attention_heads'],
  hidden: ['hidden_size'],
  positions: ['max_position_embeddings'],
};
const GPT2_STYLE: Record<Fields, readonly string[]> = {
  layers: ['n_layer'],
  heads: ['n_head'],
  kvHeads: ['n_head'],
  hidden: ['n_embd'],
  positions: ['n_positions'],
};

export const SUPPORTED_MODEL_TYPES: Readonly<Record<string, Record<Fields, readonly string[]>>> = {
  llama: STANDARD,
  mistral: STANDARD,
  qwen2: STANDARD,
  qwen3: STANDARD,
  phi3: STANDARD,
  gemma: STANDARD,
  gemma2: STANDARD,
  granite: STANDARD,
  olmo2: STANDARD,
  smollm3: STANDARD,
  starcoder2: STANDARD,
  gpt_bigcode: GPT2_STYLE,
  gpt2: GPT2_STYLE,
};

function pick(config: Record<string, unknown>, keys: readonly string[], file: string, what: string): number {
  for (const key of keys) {
    const value = config[key];
    if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
  }
  throw new ModelError('invalid-config', `${file} has no valid ${keys[0]} (${what}); the file is incomplete or not a Hugging Face config: download it again.`, file);
}

/** Normalizes config.json; throws ModelError for unsupported or incomplete configs. */
export function readArchitecture(config: unknown, file = 'config.json'): ModelArchitecture {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new ModelError('invalid-config', `${file} must hold a JSON object; download the model's config.json again.`, file);
  }
  const raw = config as Record<string, unknown>;
  const modelType = raw.model_type;
  if (typeof modelType !== 'string') {
    throw new ModelError('invalid-config', `${file} has no "model_type"; it is not a Hugging Face model config: download the model's config.json again.`, file);
  }
  const fields = SUPPORTED_MODEL_TYPES[modelType];
  if (!fields) {
    throw new ModelError(
      'unsupported-architecture',
      `${file}: model_type "${modelType}" is not supported. Tokenscope runs decoder-only text models of these types: ${Object.keys(SUPPORTED_MODEL_TYPES).join(', ')}. Choose a model of one of them (e.g. an onnx-community Qwen2.5-Coder export).`,
      file,
    );
  }
  const numLayers = pick(raw, fields.layers, file, 'number of layers');
  const numHeads = pick(raw, fields.heads, file, 'attention heads');
  const hiddenSize = pick(raw, fields.hidden, file, 'hidden size');
  const multiQuery = modelType === 'gpt_bigcode' && raw.multi_query !== false;
  const numKvHeads = multiQuery ? 1 : pick(raw, fields.kvHeads, file, 'key/value heads');
  const headDim = typeof raw.head_dim === 'number' && raw.head_dim > 0 ? raw.head_dim : hiddenSize / numHeads;
  const vocabSize = pick(raw, ['vocab_size'], file, 'vocabulary size');
  const contextLength = pick(raw, fields.positions, file, 'context length');
  if (!Number.isInteger(headDim) || numHeads % numKvHeads !== 0) {
    throw new ModelError('invalid-config', `${file}: ${numHeads} heads, ${numKvHeads} key/value heads and hidden size ${hiddenSize} do not fit together; the config is corrupt: download it again.`, file);
  }
  return { modelType, numLayers, numHeads, numKvHeads, headDim, hiddenSize, vocabSize, contextLength, fusedKeyValue: modelType === 'gpt_bigcode' };
}
