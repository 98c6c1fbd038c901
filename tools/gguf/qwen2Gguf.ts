/**
 * Writes a Qwen2-architecture decoder as a GGUF file llama.cpp loads (`general.architecture`
 * "qwen2", its tensor names and hyperparameter keys, a "gpt2" BPE vocabulary with the "qwen2"
 * pre-tokenizer), from the SAME weights as an ONNX model of this repository:
 * - the bench and test models of tools/test-models (their weight source: 4-bit MatMulNBits blocks
 *   are repacked block for block into Q4_0, float weights transposed to ggml's [in, out] rows);
 * - an ONNX file with Hugging Face-named fp32 initializers (tokenscope-mini's export).
 *
 * Qwen2 in llama.cpp uses NEOX-style RoPE (rotate half), as the Hugging Face model and the ONNX
 * graphs do, so q/k weights are written as they are (only the `llama` architecture permutes them).
 * A missing `output.weight` means tied embeddings (llama.cpp then uses token_embd).
 */
import { readFileSync } from 'node:fs';
import { fields as protobufFields, type Field } from '../../src/core/runtime/onnxProtobuf';
import type { buildDecoderGraph, DecoderSpec } from '../test-models/decoder';
import { FILE_TYPE, encodeF16, encodeF32, encodeQ4_0, encodeQ8_0, gguf, q4_0FromMatMulNBits, writeGguf, type GgmlTypeName, type GgufTensor, type GgufValue } from './gguf';

export interface Qwen2Hyperparameters {
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  readonly numKvHeads: number;
  readonly intermediateSize: number;
  readonly contextLength: number;
  readonly ropeTheta: number;
  readonly normEps: number;
}

/** A linear layer y = x W with K inputs and N outputs. */
export type LinearWeight =
  /** com.microsoft MatMulNBits blocks: [N, K/32, 16] bytes, N*K/32 float scales, zero point 8. */
  | { readonly kind: 'matmulnbits'; readonly K: number; readonly N: number; readonly packed: Uint8Array; readonly scales: Float32Array }
  /** Float weights as N rows of K (PyTorch's [out, in], ggml's [in, out] dims). */
  | { readonly kind: 'float'; readonly K: number; readonly N: number; readonly rows: Float32Array };

export type LinearName = 'q' | 'k' | 'v' | 'o' | 'gate' | 'up' | 'down';

export interface Qwen2Weights {
  /** [vocab, hidden] row-major. */
  embedding(): Float32Array;
  linear(layer: number, name: LinearName): LinearWeight;
  /** q/k/v biases (Qwen2 has them). */
  bias(layer: number, name: 'q' | 'k' | 'v'): Float32Array | undefined;
  norm(layer: number, name: 'attn' | 'ffn'): Float32Array;
  finalNorm(): Float32Array;
  /** undefined: tied to the embedding. */
  lmHead(): LinearWeight | undefined;
}

export interface TokenizerSource {
  /** tokenizer.json text. */
  readonly tokenizerJson: string;
  readonly bosTokenId?: number;
  readonly eosTokenId?: number;
  readonly padTokenId?: number;
}

export interface Qwen2GgufOptions {
  readonly name: string;
  readonly hyperparameters: Qwen2Hyperparameters;
  readonly weights: Qwen2Weights;
  readonly tokenizer: TokenizerSource;
  /** Type of the linear layers (and lm_head). 4-bit sources repack into Q4_0 without rounding. */
  readonly linearType: GgmlTypeName;
  /** Type of token_embd (default F32, as the ONNX graphs' Gather table). */
  readonly embeddingType?: GgmlTypeName;
}

export interface Qwen2GgufResult {
  readonly bytes: number;
  readonly tensors: number;
  /** 4-bit scales fp16 could not hold exactly (0: the GGUF weights equal the ONNX weights). */
  readonly inexactScales: number;
  readonly maxScaleRelativeError: number;
}

const LINEAR_TENSORS: Readonly<Record<LinearName, string>> = { q: 'attn_q', k: 'attn_k', v: 'attn_v', o: 'attn_output', gate: 'ffn_gate', up: 'ffn_up', down: 'ffn_down' };

/** The pre-tokenizer regex of Qwen2 / Qwen2.5 / Qwen3 (and tokenscope-mini): llama.cpp's "qwen2". */
const QWEN2_PRETOKENIZER = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

interface TokenizerJson {
  readonly model: { readonly type: string; readonly vocab: Record<string, number>; readonly merges: readonly (string | readonly [string, string])[] };
  readonly added_tokens: readonly { readonly id: number; readonly content: string; readonly special: boolean }[];
  readonly pre_tokenizer?: { readonly pretokenizers?: readonly { readonly type: string; readonly pattern?: { readonly Regex?: string } }[] };
}

/** GGUF token types (llama_token_type). */
const TOKEN_TYPE = { normal: 1, control: 3, userDefined: 4, unused: 5 } as const;

/** tokenizer.ggml.* metadata of a byte-level BPE tokenizer.json, padded to the model's vocabulary size. */
export function tokenizerMetadata(source: TokenizerSource, vocabSize: number): Record<string, GgufValue> {
  const json = JSON.parse(source.tokenizerJson) as TokenizerJson;
  if (json.model.type !== 'BPE') throw new Error(`tokenizer.json model type ${json.model.type}: only byte-level BPE (gpt2 style) is written`);
  const pattern = json.pre_tokenizer?.pretokenizers?.find((pre) => pre.type === 'Split')?.pattern?.Regex;
  if (pattern !== QWEN2_PRETOKENIZER) throw new Error('the tokenizer does not split text like Qwen2 (pre_tokenizer regex differs): llama.cpp would tokenize text differently');
  const tokens: (string | undefined)[] = new Array(vocabSize);
  const types = new Int32Array(vocabSize).fill(TOKEN_TYPE.unused);
  const place = (id: number, content: string, type: number) => {
    if (id >= vocabSize) throw new RangeError(`token ${id} (${JSON.stringify(content)}) is outside the model's vocabulary of ${vocabSize}`);
    tokens[id] = content;
    types[id] = type;
  };
  for (const [content, id] of Object.entries(json.model.vocab)) place(id, content, TOKEN_TYPE.normal);
  for (const added of json.added_tokens) place(added.id, added.content, added.special ? TOKEN_TYPE.control : TOKEN_TYPE.userDefined);
  // Rows of the embedding with no token (Qwen pads its vocabulary to a multiple of 128).
  for (let id = 0; id < vocabSize; id++) if (tokens[id] === undefined) tokens[id] = `[PAD${id}]`;
  const merges = json.model.merges.map((merge) => (typeof merge === 'string' ? merge : `${merge[0]} ${merge[1]}`));
  const metadata: Record<string, GgufValue> = {
    'tokenizer.ggml.model': gguf.str('gpt2'),
    'tokenizer.ggml.pre': gguf.str('qwen2'),
    'tokenizer.ggml.tokens': gguf.strings(tokens as string[]),
    'tokenizer.ggml.token_type': gguf.i32s(types),
    'tokenizer.ggml.merges': gguf.strings(merges),
    'tokenizer.ggml.add_bos_token': gguf.bool(false),
  };
  if (source.bosTokenId !== undefined) metadata['tokenizer.ggml.bos_token_id'] = gguf.u32(source.bosTokenId);
  if (source.eosTokenId !== undefined) metadata['tokenizer.ggml.eos_token_id'] = gguf.u32(source.eosTokenId);
  if (source.padTokenId !== undefined) metadata['tokenizer.ggml.padding_token_id'] = gguf.u32(source.padTokenId);
  return metadata;
}

/** Dequantized MatMulNBits weight as N rows of K floats. */
export function dequantizeMatMulNBits(weight: Extract<LinearWeight, { kind: 'matmulnbits' }>): Float32Array {
  const { K, N, packed, scales } = weight;
  const blocks = K / 32;
  const rows = new Float32Array(N * K);
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < blocks; b++) {
      const scale = scales[n * blocks + b];
      for (let j = 0; j < 32; j++) {
        const byte = packed[(n * blocks + b) * 16 + (j >> 1)];
        rows[n * K + b * 32 + j] = ((j & 1 ? byte >> 4 : byte & 15) - 8) * scale;
      }
    }
  }
  return rows;
}

export function writeQwen2Gguf(path: string, options: Qwen2GgufOptions): Qwen2GgufResult {
  const h = options.hyperparameters;
  const headDim = h.hiddenSize / h.numHeads;
  if (!Number.isInteger(headDim)) throw new RangeError(`hidden size ${h.hiddenSize} is not a multiple of ${h.numHeads} heads`);
  let inexactScales = 0;
  let maxScaleRelativeError = 0;
  const encodeLinear = (weight: LinearWeight): Uint8Array => {
    if (weight.kind === 'matmulnbits' && options.linearType === 'Q4_0') {
      const repack = q4_0FromMatMulNBits(weight.packed, weight.scales, weight.K, weight.N);
      inexactScales += repack.inexactScales;
      maxScaleRelativeError = Math.max(maxScaleRelativeError, repack.maxScaleRelativeError);
      return repack.bytes;
    }
    const rows = weight.kind === 'float' ? weight.rows : dequantizeMatMulNBits(weight);
    return encode(options.linearType, rows);
  };
  const w = options.weights;
  const tensors: GgufTensor[] = [];
  const float = (name: string, data: () => Float32Array, dims: number[]) => tensors.push({ name, dims, type: 'F32', data: () => encodeF32(data()) });
  const embeddingType = options.embeddingType ?? 'F32';
  tensors.push({ name: 'token_embd.weight', dims: [h.hiddenSize, h.vocabSize], type: embeddingType, data: () => encode(embeddingType, w.embedding()) });
  for (let layer = 0; layer < h.numLayers; layer++) {
    const blk = `blk.${layer}`;
    float(`${blk}.attn_norm.weight`, () => w.norm(layer, 'attn'), [h.hiddenSize]);
    for (const name of ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] as const) {
      const out = name === 'k' || name === 'v' ? h.numKvHeads * headDim : name === 'gate' || name === 'up' ? h.intermediateSize : h.hiddenSize;
      const inDim = name === 'down' ? h.intermediateSize : h.hiddenSize;
      tensors.push({ name: `${blk}.${LINEAR_TENSORS[name]}.weight`, dims: [inDim, out], type: options.linearType, data: () => checkedLinear(w.linear(layer, name), inDim, out, encodeLinear) });
      if (name === 'q' || name === 'k' || name === 'v') {
        const bias = w.bias(layer, name);
        if (bias) float(`${blk}.${LINEAR_TENSORS[name]}.bias`, () => bias, [out]);
      }
    }
    float(`${blk}.ffn_norm.weight`, () => w.norm(layer, 'ffn'), [h.hiddenSize]);
  }
  float('output_norm.weight', () => w.finalNorm(), [h.hiddenSize]);
  const head = w.lmHead();
  if (head) tensors.push({ name: 'output.weight', dims: [h.hiddenSize, h.vocabSize], type: options.linearType, data: () => checkedLinear(head, h.hiddenSize, h.vocabSize, encodeLinear) });

  const metadata: Record<string, GgufValue> = {
    'general.architecture': gguf.str('qwen2'),
    'general.name': gguf.str(options.name),
    'general.file_type': gguf.u32(FILE_TYPE[options.linearType]),
    ...(options.linearType === 'Q4_0' || options.linearType === 'Q8_0' ? { 'general.quantization_version': gguf.u32(2) } : {}),
    'general.alignment': gguf.u32(32),
    'qwen2.context_length': gguf.u32(h.contextLength),
    'qwen2.embedding_length': gguf.u32(h.hiddenSize),
    'qwen2.block_count': gguf.u32(h.numLayers),
    'qwen2.feed_forward_length': gguf.u32(h.intermediateSize),
    'qwen2.attention.head_count': gguf.u32(h.numHeads),
    'qwen2.attention.head_count_kv': gguf.u32(h.numKvHeads),
    'qwen2.rope.dimension_count': gguf.u32(headDim),
    'qwen2.rope.freq_base': gguf.f32(h.ropeTheta),
    'qwen2.attention.layer_norm_rms_epsilon': gguf.f32(h.normEps),
    ...tokenizerMetadata(options.tokenizer, h.vocabSize),
  };
  const bytes = writeGguf(path, metadata, tensors);
  return { bytes, tensors: tensors.length, inexactScales, maxScaleRelativeError };
}

function encode(type: GgmlTypeName, values: Float32Array): Uint8Array {
  switch (type) {
    case 'F32':
      return encodeF32(values);
    case 'F16':
      return encodeF16(values);
    case 'Q8_0':
      return encodeQ8_0(values);
    case 'Q4_0':
      return encodeQ4_0(values);
  }
}

function checkedLinear(weight: LinearWeight, K: number, N: number, encodeLinear: (weight: LinearWeight) => Uint8Array): Uint8Array {
  if (weight.K !== K || weight.N !== N) throw new RangeError(`linear weight is ${weight.K}x${weight.N}, the architecture says ${K}x${N}`);
  return encodeLinear(weight);
}

// ---------------------------------------------------------------------------------------------
// Weight sources

type DecoderWeightSource = Parameters<typeof buildDecoderGraph>[2];

/** Hyperparameters of a test-model DecoderSpec. */
export function decoderHyperparameters(spec: DecoderSpec): Qwen2Hyperparameters {
  if (spec.family !== 'qwen2') throw new Error(`only qwen2 decoders are written as GGUF, not ${spec.family}`);
  return {
    vocabSize: spec.vocabSize,
    hiddenSize: spec.hiddenSize,
    numLayers: spec.numLayers,
    numHeads: spec.numHeads,
    numKvHeads: spec.numKvHeads,
    intermediateSize: spec.intermediateSize,
    contextLength: spec.maxPositions,
    ropeTheta: spec.ropeTheta,
    normEps: spec.normEps,
  };
}

/** The weights a test-model ONNX graph was built from (tools/test-models), in GGUF's terms. */
export function decoderWeights(source: DecoderWeightSource): Qwen2Weights {
  const floats = (name: string): Float32Array => {
    const w = source(name);
    if ('q4' in w) throw new Error(`${name} is 4-bit; expected floats`);
    return w.data;
  };
  const linear = (name: string): LinearWeight => {
    const w = source(`${name}.weight`);
    const [K, N] = w.dims;
    if ('q4' in w) return { kind: 'matmulnbits', K, N, packed: w.q4.packed, scales: w.q4.scales };
    // The graphs store x @ W as [K, N]; ggml wants N rows of K.
    const rows = new Float32Array(K * N);
    for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) rows[n * K + k] = w.data[k * N + n];
    return { kind: 'float', K, N, rows };
  };
  const projections: Readonly<Record<LinearName, string>> = { q: 'q_proj', k: 'k_proj', v: 'v_proj', o: 'o_proj', gate: 'gate_proj', up: 'up_proj', down: 'down_proj' };
  return {
    embedding: () => floats('embed'),
    linear: (layer, name) => linear(`layers.${layer}.${projections[name]}`),
    bias: (layer, name) => floats(`layers.${layer}.${projections[name]}.bias`),
    norm: (layer, name) => floats(`layers.${layer}.${name === 'attn' ? 'input_layernorm' : 'post_attention_layernorm'}.weight`),
    finalNorm: () => floats('norm.weight'),
    lmHead: () => linear('lm_head'),
  };
}

interface Initializer {
  readonly dims: number[];
  readonly dataType: number;
  readonly raw: Uint8Array;
}

/** fp32 initializers of an ONNX file, by name (raw_data or float_data; external data is not read). */
export function readOnnxInitializers(bytes: Uint8Array): Map<string, Initializer> {
  const decoder = new TextDecoder();
  const out = new Map<string, Initializer>();
  const text = (f: Field) => decoder.decode(bytes.subarray(f.valueStart, f.end));
  for (const model of protobufFields(bytes)) {
    if (model.field !== 7 || model.wireType !== 2) continue;
    for (const graph of protobufFields(bytes, model.valueStart, model.end)) {
      // GraphProto.initializer = 5 (TensorProto: dims 1, data_type 2, float_data 4, name 8, raw_data 9).
      if (graph.field !== 5 || graph.wireType !== 2) continue;
      let name = '';
      const dims: number[] = [];
      let dataType = 0;
      let raw: Uint8Array | undefined;
      for (const f of protobufFields(bytes, graph.valueStart, graph.end)) {
        if (f.field === 1 && f.wireType === 0) dims.push(f.varint!);
        else if (f.field === 1 && f.wireType === 2) {
          for (let offset = f.valueStart; offset < f.end; ) {
            let value = 0;
            let scale = 1;
            for (;;) {
              const byte = bytes[offset++];
              value += (byte & 0x7f) * scale;
              scale *= 128;
              if (!(byte & 0x80)) break;
            }
            dims.push(value);
          }
        } else if (f.field === 2 && f.wireType === 0) dataType = f.varint!;
        else if (f.field === 8 && f.wireType === 2) name = text(f);
        else if ((f.field === 9 || f.field === 4) && f.wireType === 2) raw = bytes.subarray(f.valueStart, f.end);
      }
      if (raw) out.set(name, { dims, dataType, raw });
    }
  }
  return out;
}

/** Weights of an ONNX export with Hugging Face-named fp32 initializers (`model.layers.0.self_attn.q_proj.weight` [out, in]). */
export function huggingFaceOnnxWeights(onnxPath: string): Qwen2Weights {
  const initializers = readOnnxInitializers(new Uint8Array(readFileSync(onnxPath)));
  const tensor = (name: string): { dims: number[]; data: Float32Array } | undefined => {
    const init = initializers.get(name);
    if (!init) return undefined;
    if (init.dataType !== 1) throw new Error(`${onnxPath}: ${name} is ONNX data type ${init.dataType}, not float32`);
    const data = new Float32Array(init.raw.byteLength / 4);
    new Uint8Array(data.buffer).set(init.raw);
    return { dims: init.dims, data };
  };
  const required = (name: string) => {
    const t = tensor(name);
    if (!t) throw new Error(`${onnxPath} has no initializer ${name}`);
    return t;
  };
  const linear = (name: string): LinearWeight => {
    const t = required(`${name}.weight`);
    const [N, K] = t.dims;
    return { kind: 'float', K, N, rows: t.data };
  };
  const attention = new Set<LinearName>(['q', 'k', 'v', 'o']);
  const path = (layer: number, name: LinearName) => `model.layers.${layer}.${attention.has(name) ? 'self_attn' : 'mlp'}.${name}_proj`;
  return {
    embedding: () => required('model.embed_tokens.weight').data,
    linear: (layer, name) => linear(path(layer, name)),
    bias: (layer, name) => tensor(`${path(layer, name)}.bias`)?.data,
    norm: (layer, name) => required(`model.layers.${layer}.${name === 'attn' ? 'input_layernorm' : 'post_attention_layernorm'}.weight`).data,
    finalNorm: () => required('model.norm.weight').data,
    lmHead: () => (initializers.has('lm_head.weight') ? linear('lm_head') : undefined),
  };
}

