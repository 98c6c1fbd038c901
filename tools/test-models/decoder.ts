/**
 * Random-weight decoder-only transformers written as ONNX graphs in the layouts real Hugging Face
 * exports use, plus a float64 reference forward pass to check the graphs' math.
 *
 * Families: `qwen2` (q/k/v biases), `qwen3` (q/k RMSNorm, no biases), `gpt_bigcode` (multi-query,
 * fused `key_value` cache, learned positions, LayerNorm, GELU). Styles: `optimum` uses only standard
 * ONNX ops (as Optimum exports do); `contrib` uses ONNX Runtime's fused ops (GroupQueryAttention,
 * RotaryEmbedding, SimplifiedLayerNormalization, MatMulNBits) as onnxruntime-genai style exports do.
 */
import { GraphBuilder } from './graphBuilder';
import { writeModel, type DataTypeName, type ModelBytes } from './onnxProto';
import { mulberry32 as prng } from '../../src/core/random';
import { halfToFloat } from '../../src/core/runtime/float16';

export type Family = 'qwen2' | 'qwen3' | 'gpt_bigcode';

export interface DecoderSpec {
  readonly family: Family;
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  /** Key/value heads (GQA when fewer than numHeads). gpt_bigcode is multi-query: 1. */
  readonly numKvHeads: number;
  readonly intermediateSize: number;
  readonly maxPositions: number;
  readonly ropeTheta: number;
  readonly normEps: number;
  readonly seed: number;
}

export interface GraphOptions {
  readonly style: 'optimum' | 'contrib';
  readonly kvType: 'float' | 'float16';
  readonly logitsType: 'float' | 'float16';
  /** `q4`: every linear layer as com.microsoft MatMulNBits (4-bit, block 32), like model_q4.onnx. */
  readonly weights: 'fp32' | 'q4';
  /** Declare `position_ids` (otherwise positions are computed inside the graph). */
  readonly positionIds: boolean;
  readonly numLogitsToKeep: boolean;
  readonly useCacheBranch: boolean;
  /** Extra declared inputs, e.g. to test how the loader rejects a graph it cannot feed. */
  readonly extraInputs?: readonly { readonly name: string; readonly type: DataTypeName; readonly dims: (number | string)[] }[];
  /** File name for initializers stored outside the .onnx file (`model.onnx_data`). */
  readonly externalDataName?: string;
  /** MatMulNBits accuracy_level (4 = int8 compute on CPU). */
  readonly accuracyLevel?: number;
}

export const headDim = (spec: DecoderSpec): number => spec.hiddenSize / spec.numHeads;

// ---------------------------------------------------------------------------------------------
// Deterministic random weights (mulberry32, so committed fixtures stay byte-identical)

/** Hash of a tensor name so each tensor's values do not depend on creation order. */
function nameSeed(seed: number, name: string): number {
  let h = seed ^ 0x9e3779b9;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export type Weights = Map<string, { readonly dims: readonly number[]; readonly data: Float32Array }>;

/** Uniform weights with the given standard deviation (uniform keeps values bounded). */
function randomTensor(seed: number, name: string, dims: readonly number[], std: number, mean = 0): Float32Array {
  const next = prng(nameSeed(seed, name));
  const size = dims.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  const half = std * Math.sqrt(3);
  for (let i = 0; i < size; i++) data[i] = mean + (next() * 2 - 1) * half;
  return data;
}

/** Names and shapes of every weight; linear weights are stored [in, out] (x @ W). */
export function weightShapes(spec: DecoderSpec): Map<string, { dims: number[]; std: number; mean?: number }> {
  const H = spec.hiddenSize;
  const hd = headDim(spec);
  const kvH = spec.numKvHeads * hd;
  const shapes = new Map<string, { dims: number[]; std: number; mean?: number }>();
  const linear = (name: string, inDim: number, outDim: number, bias: boolean) => {
    shapes.set(`${name}.weight`, { dims: [inDim, outDim], std: 1 / Math.sqrt(inDim) });
    if (bias) shapes.set(`${name}.bias`, { dims: [outDim], std: 0.1 });
  };
  const norm = (name: string, dim: number, bias: boolean) => {
    shapes.set(`${name}.weight`, { dims: [dim], std: 0.1, mean: 1 });
    if (bias) shapes.set(`${name}.bias`, { dims: [dim], std: 0.05 });
  };
  shapes.set('embed', { dims: [spec.vocabSize, H], std: 1 });
  if (spec.family === 'gpt_bigcode') {
    shapes.set('wpe', { dims: [spec.maxPositions, H], std: 0.3 });
    for (let i = 0; i < spec.numLayers; i++) {
      const p = `layers.${i}`;
      norm(`${p}.ln_1`, H, true);
      linear(`${p}.c_attn`, H, H + 2 * hd, true);
      linear(`${p}.attn_proj`, H, H, true);
      norm(`${p}.ln_2`, H, true);
      linear(`${p}.c_fc`, H, spec.intermediateSize, true);
      linear(`${p}.mlp_proj`, spec.intermediateSize, H, true);
    }
    norm('ln_f', H, true);
  } else {
    const bias = spec.family === 'qwen2';
    for (let i = 0; i < spec.numLayers; i++) {
      const p = `layers.${i}`;
      norm(`${p}.input_layernorm`, H, false);
      linear(`${p}.q_proj`, H, H, bias);
      linear(`${p}.k_proj`, H, kvH, bias);
      linear(`${p}.v_proj`, H, kvH, bias);
      if (spec.family === 'qwen3') {
        norm(`${p}.q_norm`, hd, false);
        norm(`${p}.k_norm`, hd, false);
      }
      linear(`${p}.o_proj`, H, H, false);
      norm(`${p}.post_attention_layernorm`, H, false);
      linear(`${p}.gate_proj`, H, spec.intermediateSize, false);
      linear(`${p}.up_proj`, H, spec.intermediateSize, false);
      linear(`${p}.down_proj`, spec.intermediateSize, H, false);
    }
    norm('norm', H, false);
  }
  // Logits scaled so a random model is neither flat nor one-hot: sampling tests need spread.
  linear('lm_head', H, spec.vocabSize, false);
  shapes.get('lm_head.weight')!.std = 2.5 / Math.sqrt(H);
  return shapes;
}

export function makeWeights(spec: DecoderSpec): Weights {
  const weights: Weights = new Map();
  for (const [name, { dims, std, mean }] of weightShapes(spec)) weights.set(name, { dims, data: randomTensor(spec.seed, name, dims, std, mean) });
  return weights;
}

// ---------------------------------------------------------------------------------------------
// 4-bit block quantization in the com.microsoft MatMulNBits layout

export const Q4_BLOCK = 32;

export interface Q4Weight {
  /** [N, blocks, BLOCK/2] bytes; low nibble first; zero point 8. */
  readonly packed: Uint8Array;
  /** [N * blocks] */
  readonly scales: Float32Array;
  /** The weight as the graph will compute with it, [K, N]. */
  readonly dequantized: Float32Array;
}

/** Quantizes a [K, N] weight (x @ W) to MatMulNBits' transposed, blocked layout. */
export function quantizeQ4(weight: Float32Array, K: number, N: number): Q4Weight {
  const blocks = Math.ceil(K / Q4_BLOCK);
  const packed = new Uint8Array(N * blocks * (Q4_BLOCK / 2));
  const scales = new Float32Array(N * blocks);
  const dequantized = new Float32Array(K * N);
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < blocks; b++) {
      let maxAbs = 0;
      for (let j = 0; j < Q4_BLOCK; j++) {
        const k = b * Q4_BLOCK + j;
        if (k < K) maxAbs = Math.max(maxAbs, Math.abs(weight[k * N + n]));
      }
      const scale = maxAbs / 7 || 1;
      scales[n * blocks + b] = scale;
      for (let j = 0; j < Q4_BLOCK; j++) {
        const k = b * Q4_BLOCK + j;
        const q = k < K ? Math.max(0, Math.min(15, Math.round(weight[k * N + n] / scale) + 8)) : 8;
        if (k < K) dequantized[k * N + n] = (q - 8) * scale;
        const byteIndex = (n * blocks + b) * (Q4_BLOCK / 2) + (j >> 1);
        packed[byteIndex] |= j & 1 ? q << 4 : q;
      }
    }
  }
  return { packed, scales, dequantized };
}

/** Random 4-bit weights without a float copy: for big benchmark models where only speed matters. */
export function randomQ4(seed: number, name: string, K: number, N: number, std: number): Omit<Q4Weight, 'dequantized'> {
  const blocks = Math.ceil(K / Q4_BLOCK);
  const packed = new Uint8Array(N * blocks * (Q4_BLOCK / 2));
  const next = prng(nameSeed(seed, name));
  // Four random bytes per draw keeps generation of hundreds of MB fast.
  for (let i = 0; i < packed.length; i += 4) {
    const word = (next() * 4294967296) >>> 0;
    packed[i] = word & 0xff;
    if (i + 1 < packed.length) packed[i + 1] = (word >>> 8) & 0xff;
    if (i + 2 < packed.length) packed[i + 2] = (word >>> 16) & 0xff;
    if (i + 3 < packed.length) packed[i + 3] = word >>> 24;
  }
  // Uniform nibbles 0..15 around 8 have std ~4.6 steps. Scales vary per block (0.5x to 1.5x), as
  // real weights' do, and are fp16 values, so the same blocks written as GGUF Q4_0 (fp16 scales)
  // hold exactly these weights.
  const scales = new Float32Array(N * blocks);
  for (let i = 0; i < scales.length; i++) scales[i] = halfToFloat(toHalf((std / 4.6) * (0.5 + next())));
  return { packed, scales };
}

// ---------------------------------------------------------------------------------------------
// Graphs

/** IEEE half from float (round to nearest even), for fp16 initializers. */
export function toHalf(value: number): number {
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  f[0] = value;
  const x = u[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  let mant = x & 0x7fffff;
  if (((x >>> 23) & 0xff) === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  if (exp >= 31) return sign | 0x7c00;
  if (exp <= 0) {
    if (exp < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - exp;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (exp << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}

interface Ctx {
  readonly g: GraphBuilder;
  readonly spec: DecoderSpec;
  readonly options: GraphOptions;
  readonly weights: (name: string) => { dims: readonly number[]; data: Float32Array } | { q4: Omit<Q4Weight, 'dequantized'>; dims: readonly number[] };
}

function ropeTables(spec: DecoderSpec, half: boolean): { cos: Float32Array; sin: Float32Array; width: number } {
  const hd = headDim(spec);
  const width = half ? hd / 2 : hd;
  const cos = new Float32Array(spec.maxPositions * width);
  const sin = new Float32Array(spec.maxPositions * width);
  for (let p = 0; p < spec.maxPositions; p++) {
    for (let i = 0; i < width; i++) {
      const freq = 1 / Math.pow(spec.ropeTheta, (2 * (i % (hd / 2))) / hd);
      cos[p * width + i] = Math.cos(p * freq);
      sin[p * width + i] = Math.sin(p * freq);
    }
  }
  return { cos, sin, width };
}

function linear(ctx: Ctx, x: string, name: string): string {
  const { g, options } = ctx;
  const w = ctx.weights(`${name}.weight`);
  let y: string;
  if ('q4' in w) {
    const [K, N] = w.dims;
    const blocks = Math.ceil(K / Q4_BLOCK);
    const b = g.initializer(`${name}.weight_q4`, 'uint8', [N, blocks, Q4_BLOCK / 2], w.q4.packed);
    const s = g.float(`${name}.weight_scales`, [N * blocks], w.q4.scales);
    y = g.op('MatMulNBits', [x, b, s], { K, N, bits: 4, block_size: Q4_BLOCK, accuracy_level: options.accuracyLevel ?? 0 }, 'com.microsoft');
  } else {
    y = g.op('MatMul', [x, g.float(`${name}.weight`, w.dims, w.data)]);
  }
  const bias = tryWeight(ctx, `${name}.bias`);
  return bias ? g.op('Add', [y, bias]) : y;
}

function tryWeight(ctx: Ctx, name: string): string | undefined {
  if (!weightShapes(ctx.spec).has(name)) return undefined;
  const w = ctx.weights(name);
  if ('q4' in w) throw new Error(`${name} cannot be 4-bit`);
  return ctx.g.float(name, w.dims, w.data);
}

function weight(ctx: Ctx, name: string): string {
  const w = tryWeight(ctx, name);
  if (!w) throw new Error(`no weight ${name}`);
  return w;
}

function rmsNorm(ctx: Ctx, x: string, name: string): string {
  const { g } = ctx;
  if (ctx.options.style === 'contrib') {
    return g.op('SimplifiedLayerNormalization', [x, weight(ctx, `${name}.weight`)], { axis: -1, epsilon: { float: ctx.spec.normEps } });
  }
  const meanSquare = g.op('ReduceMean', [g.op('Pow', [x, g.scalarFloat(2)])], { axes: [-1], keepdims: 1 });
  const rms = g.op('Sqrt', [g.op('Add', [meanSquare, g.scalarFloat(ctx.spec.normEps)])]);
  return g.op('Mul', [g.op('Div', [x, rms]), weight(ctx, `${name}.weight`)]);
}

/** [b, s, heads*hd] -> [b, heads, s, hd] */
function splitHeads(g: GraphBuilder, x: string, heads: number, hd: number): string {
  return g.op('Transpose', [g.op('Reshape', [x, g.ints([0, 0, heads, hd])])], { perm: [0, 2, 1, 3] });
}

function rotateHalf(g: GraphBuilder, x: string, hd: number): string {
  const axis = g.ints([3]);
  const first = g.op('Slice', [x, g.ints([0]), g.ints([hd / 2]), axis]);
  const second = g.op('Slice', [x, g.ints([hd / 2]), g.ints([hd]), axis]);
  return g.op('Concat', [g.op('Neg', [second]), first], { axis: 3 });
}

function pastName(i: number, part: 'key' | 'value' | 'key_value'): string {
  return `past_key_values.${i}.${part}`;
}

function presentName(i: number, part: 'key' | 'value' | 'key_value'): string {
  return `present.${i}.${part}`;
}

/** Declares a past input and returns it as float32 (casting fp16 caches). */
function pastInput(ctx: Ctx, name: string, dims: (number | string)[]): string {
  const { g, options } = ctx;
  g.input(name, options.kvType, dims);
  return options.kvType === 'float16' ? g.op('Cast', [name], { to: 1 }) : name;
}

/** Names a float32 present tensor as a graph output, casting to fp16 when asked. */
function presentOutput(ctx: Ctx, value: string, name: string, dims: (number | string)[]): void {
  const { g, options } = ctx;
  if (options.kvType === 'float16') g.node('Cast', [value], { outputs: [name], attributes: { to: 10 } });
  else g.node('Identity', [value], { outputs: [name] });
  g.output(name, options.kvType, dims);
}

export function buildDecoderGraph(spec: DecoderSpec, options: GraphOptions, weights: Ctx['weights']): ModelBytes {
  if (spec.family === 'gpt_bigcode' && options.style !== 'optimum') throw new Error('gpt_bigcode graphs are optimum-style only');
  const g = new GraphBuilder();
  const ctx: Ctx = { g, spec, options, weights };
  const H = spec.hiddenSize;
  const hd = headDim(spec);
  const ids = g.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
  const mask = g.input('attention_mask', 'int64', ['batch_size', 'total_sequence_length']);
  const seqLen = g.op('Gather', [g.op('Shape', [ids]), g.ints([1], true)], { axis: 0 });
  const totalLen = g.op('Gather', [g.op('Shape', [mask]), g.ints([1], true)], { axis: 0 });
  const pastLen = g.op('Sub', [totalLen, seqLen]);
  let positions: string;
  if (options.positionIds) {
    positions = g.input('position_ids', 'int64', ['batch_size', 'sequence_length']);
  } else {
    positions = g.op('Unsqueeze', [g.op('Range', [pastLen, totalLen, g.ints([1], true)]), g.ints([0])]);
  }
  if (options.useCacheBranch) g.input('use_cache_branch', 'bool', [1]);
  for (const extra of options.extraInputs ?? []) g.input(extra.name, extra.type, extra.dims);

  // Causal + padding mask [b, 1, s, T], shared by all layers of the optimum style.
  let allowed = '';
  if (options.style === 'optimum') {
    const keyIdx = g.op('Unsqueeze', [g.op('Range', [g.ints([0], true), totalLen, g.ints([1], true)]), g.ints([0])]);
    const queryIdx = g.op('Unsqueeze', [g.op('Range', [pastLen, totalLen, g.ints([1], true)]), g.ints([1])]);
    const causal = g.op('LessOrEqual', [keyIdx, queryIdx]);
    const padding = g.op('Unsqueeze', [g.op('Cast', [mask], { to: 9 }), g.ints([1, 2])]);
    allowed = g.op('And', [causal, padding]);
  }

  let x = g.op('Gather', [weight(ctx, 'embed'), ids], { axis: 0 });
  const pastDims = (heads: number): (number | string)[] => ['batch_size', heads, 'past_sequence_length', hd];
  const presentDims = (heads: number): (number | string)[] => ['batch_size', heads, 'total_sequence_length', hd];
  const negInf = g.scalarFloat(-1e9);
  const scale = g.scalarFloat(1 / Math.sqrt(hd));

  if (spec.family === 'gpt_bigcode') {
    x = g.op('Add', [x, g.op('Gather', [weight(ctx, 'wpe'), positions], { axis: 0 })]);
    const layerNorm = (input: string, name: string) =>
      g.op('LayerNormalization', [input, weight(ctx, `${name}.weight`), weight(ctx, `${name}.bias`)], { axis: -1, epsilon: { float: spec.normEps } });
    for (let i = 0; i < spec.numLayers; i++) {
      const p = `layers.${i}`;
      const qkv = linear(ctx, layerNorm(x, `${p}.ln_1`), `${p}.c_attn`);
      const axis2 = g.ints([2]);
      const q = g.op('Slice', [qkv, g.ints([0]), g.ints([H]), axis2]);
      const kv = g.op('Slice', [qkv, g.ints([H]), g.ints([H + 2 * hd]), axis2]);
      const past = pastInput(ctx, pastName(i, 'key_value'), ['batch_size', 'past_sequence_length', 2 * hd]);
      const present = g.op('Concat', [past, kv], { axis: 1 });
      presentOutput(ctx, present, presentName(i, 'key_value'), ['batch_size', 'total_sequence_length', 2 * hd]);
      const k = g.op('Slice', [present, g.ints([0]), g.ints([hd]), axis2]);
      const v = g.op('Slice', [present, g.ints([hd]), g.ints([2 * hd]), axis2]);
      const kT = g.op('Unsqueeze', [g.op('Transpose', [k], { perm: [0, 2, 1] }), g.ints([1])]);
      const scores = g.op('Where', [allowed, g.op('Mul', [g.op('MatMul', [splitHeads(g, q, spec.numHeads, hd), kT]), scale]), negInf]);
      const context = g.op('MatMul', [g.op('Softmax', [scores], { axis: -1 }), g.op('Unsqueeze', [v, g.ints([1])])]);
      const merged = g.op('Reshape', [g.op('Transpose', [context], { perm: [0, 2, 1, 3] }), g.ints([0, 0, H])]);
      x = g.op('Add', [x, linear(ctx, merged, `${p}.attn_proj`)]);
      const fc = linear(ctx, layerNorm(x, `${p}.ln_2`), `${p}.c_fc`);
      // GELU, tanh approximation (gelu_pytorch_tanh).
      const inner = g.op('Mul', [g.op('Add', [fc, g.op('Mul', [g.op('Pow', [fc, g.scalarFloat(3)]), g.scalarFloat(0.044715)])]), g.scalarFloat(Math.sqrt(2 / Math.PI))]);
      const gelu = g.op('Mul', [g.op('Mul', [fc, g.scalarFloat(0.5)]), g.op('Add', [g.op('Tanh', [inner]), g.scalarFloat(1)])]);
      x = g.op('Add', [x, linear(ctx, gelu, `${p}.mlp_proj`)]);
    }
    x = layerNorm(x, 'ln_f');
  } else {
    const contrib = options.style === 'contrib';
    const rope = ropeTables(spec, contrib);
    const cosTable = g.float('rope_cos', [spec.maxPositions, rope.width], rope.cos);
    const sinTable = g.float('rope_sin', [spec.maxPositions, rope.width], rope.sin);
    let cos = '';
    let sin = '';
    let seqlensK = '';
    let totalLen32 = '';
    if (contrib) {
      const maskSum = g.op('ReduceSum', [mask, g.ints([1])], { keepdims: 0 });
      seqlensK = g.op('Cast', [g.op('Sub', [maskSum, g.ints([1], true)])], { to: 6 });
      totalLen32 = g.op('Cast', [totalLen], { to: 6 });
    } else {
      cos = g.op('Unsqueeze', [g.op('Gather', [cosTable, positions], { axis: 0 }), g.ints([1])]);
      sin = g.op('Unsqueeze', [g.op('Gather', [sinTable, positions], { axis: 0 }), g.ints([1])]);
    }
    const applyRope = (t: string) => g.op('Add', [g.op('Mul', [t, cos]), g.op('Mul', [rotateHalf(g, t, hd), sin])]);
    const repeat = spec.numHeads / spec.numKvHeads;
    const repeatKv = (t: string) =>
      repeat === 1
        ? t
        : g.op('Reshape', [g.op('Expand', [g.op('Unsqueeze', [t, g.ints([2])]), g.ints([1, 1, repeat, 1, 1])]), g.ints([0, spec.numHeads, -1, hd])]);
    for (let i = 0; i < spec.numLayers; i++) {
      const p = `layers.${i}`;
      const h = rmsNorm(ctx, x, `${p}.input_layernorm`);
      let q = linear(ctx, h, `${p}.q_proj`);
      let k = linear(ctx, h, `${p}.k_proj`);
      const v = linear(ctx, h, `${p}.v_proj`);
      const pastK = pastInput(ctx, pastName(i, 'key'), pastDims(spec.numKvHeads));
      const pastV = pastInput(ctx, pastName(i, 'value'), pastDims(spec.numKvHeads));
      let attention: string;
      if (contrib) {
        if (spec.family === 'qwen3') {
          const headNorm = (t: string, heads: number, name: string) =>
            g.op('Reshape', [rmsNorm(ctx, g.op('Reshape', [t, g.ints([0, 0, heads, hd])]), name), g.ints([0, 0, heads * hd])]);
          q = headNorm(q, spec.numHeads, `${p}.q_norm`);
          k = headNorm(k, spec.numKvHeads, `${p}.k_norm`);
        }
        const rotary = (t: string, heads: number) => g.op('RotaryEmbedding', [t, positions, cosTable, sinTable], { interleaved: 0, num_heads: heads }, 'com.microsoft');
        const [out, presentK, presentV] = g.node(
          'GroupQueryAttention',
          [rotary(q, spec.numHeads), rotary(k, spec.numKvHeads), v, pastK, pastV, seqlensK, totalLen32],
          { outputs: 3, attributes: { num_heads: spec.numHeads, kv_num_heads: spec.numKvHeads }, domain: 'com.microsoft' },
        );
        presentOutput(ctx, presentK, presentName(i, 'key'), presentDims(spec.numKvHeads));
        presentOutput(ctx, presentV, presentName(i, 'value'), presentDims(spec.numKvHeads));
        attention = out;
      } else {
        let q4d = splitHeads(g, q, spec.numHeads, hd);
        let k4d = splitHeads(g, k, spec.numKvHeads, hd);
        if (spec.family === 'qwen3') {
          q4d = rmsNorm(ctx, q4d, `${p}.q_norm`);
          k4d = rmsNorm(ctx, k4d, `${p}.k_norm`);
        }
        q4d = applyRope(q4d);
        k4d = applyRope(k4d);
        const presentK = g.op('Concat', [pastK, k4d], { axis: 2 });
        const presentV = g.op('Concat', [pastV, splitHeads(g, v, spec.numKvHeads, hd)], { axis: 2 });
        presentOutput(ctx, presentK, presentName(i, 'key'), presentDims(spec.numKvHeads));
        presentOutput(ctx, presentV, presentName(i, 'value'), presentDims(spec.numKvHeads));
        const kT = g.op('Transpose', [repeatKv(presentK)], { perm: [0, 1, 3, 2] });
        const scores = g.op('Where', [allowed, g.op('Mul', [g.op('MatMul', [q4d, kT]), scale]), negInf]);
        const context = g.op('MatMul', [g.op('Softmax', [scores], { axis: -1 }), repeatKv(presentV)]);
        attention = g.op('Reshape', [g.op('Transpose', [context], { perm: [0, 2, 1, 3] }), g.ints([0, 0, H])]);
      }
      x = g.op('Add', [x, linear(ctx, attention, `${p}.o_proj`)]);
      const h2 = rmsNorm(ctx, x, `${p}.post_attention_layernorm`);
      const gate = linear(ctx, h2, `${p}.gate_proj`);
      const up = linear(ctx, h2, `${p}.up_proj`);
      const act = g.op('Mul', [g.op('Mul', [gate, g.op('Sigmoid', [gate])]), up]);
      x = g.op('Add', [x, linear(ctx, act, `${p}.down_proj`)]);
    }
    x = rmsNorm(ctx, x, 'norm');
  }

  if (options.numLogitsToKeep) {
    const keep = g.input('num_logits_to_keep', 'int64', []);
    // Keeps the last `keep` positions; 0 keeps all (Slice from -0 = 0).
    const start = g.op('Neg', [g.op('Unsqueeze', [keep, g.ints([0])])]);
    x = g.op('Slice', [x, start, g.ints([2 ** 53 - 1]), g.ints([1])]);
  }
  const logits = linear(ctx, x, 'lm_head');
  const logitsDims = ['batch_size', options.numLogitsToKeep ? 'logits_length' : 'sequence_length', spec.vocabSize];
  if (options.logitsType === 'float16') g.node('Cast', [logits], { outputs: ['logits'], attributes: { to: 10 } });
  else g.node('Identity', [logits], { outputs: ['logits'] });
  g.output('logits', options.logitsType, logitsDims);
  // Graph outputs must follow inputs' order in exports: logits first, then presents.
  const graph = g.build('main_graph');
  const outputs = [...graph.outputs].sort((a, b) => (a.name === 'logits' ? -1 : b.name === 'logits' ? 1 : 0));
  const opsets: Record<string, number> = { '': 17 };
  if (options.style === 'contrib' || options.weights === 'q4') opsets['com.microsoft'] = 1;
  return writeModel({ ...graph, outputs }, { opsets, externalDataName: options.externalDataName });
}

/** Weight provider for graphs: float weights, or 4-bit for linear layers when `options.weights` is q4. */
export function weightSource(spec: DecoderSpec, weights: Weights, options: Pick<GraphOptions, 'weights'>): Ctx['weights'] {
  const cache = new Map<string, Q4Weight>();
  return (name) => {
    const w = weights.get(name);
    if (!w) throw new Error(`no weight ${name}`);
    if (options.weights === 'q4' && name.endsWith('.weight') && w.dims.length === 2 && name !== 'embed' && name !== 'wpe') {
      let q = cache.get(name);
      if (!q) {
        q = quantizeQ4(w.data, w.dims[0], w.dims[1]);
        cache.set(name, q);
      }
      return { q4: q, dims: w.dims };
    }
    return w;
  };
}

/** The float weights the q4 graph effectively computes with (for reference checks). */
export function dequantizedWeights(weights: Weights): Weights {
  const out: Weights = new Map();
  for (const [name, w] of weights) {
    if (name.endsWith('.weight') && w.dims.length === 2 && name !== 'embed' && name !== 'wpe') {
      out.set(name, { dims: w.dims, data: quantizeQ4(w.data, w.dims[0], w.dims[1]).dequantized });
    } else {
      out.set(name, w);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reference forward pass (float64), the ground truth the ONNX graphs are checked against

/** What the reference pass saw inside the model (the inspection graph's outputs are checked against it). */
export interface ReferenceTrace {
  /** [layer][position]: the residual stream after the layer. */
  readonly hidden: Float64Array[][];
  /** [layer][position][head]: attention probabilities over positions 0..position. */
  readonly attention: number[][][][];
  /** [layer][position]: the final norm and LM head applied to that layer's hidden state. */
  readonly lens: Float64Array[][];
}

/** Logits [ids.length, vocab] of a full (uncached) forward pass over `ids`; fills `trace` when given. */
export function referenceLogits(spec: DecoderSpec, weights: Weights, ids: readonly number[], trace?: ReferenceTrace): Float64Array[] {
  const H = spec.hiddenSize;
  const hd = headDim(spec);
  const w = (name: string) => {
    const t = weights.get(name);
    if (!t) throw new Error(`no weight ${name}`);
    return t.data;
  };
  const matmul = (x: Float64Array[], name: string): Float64Array[] => {
    const W = w(`${name}.weight`);
    const out = (weights.get(`${name}.weight`)!.dims as number[])[1];
    const bias = weights.get(`${name}.bias`)?.data;
    return x.map((row) => {
      const y = new Float64Array(out);
      for (let k = 0; k < row.length; k++) {
        const xv = row[k];
        if (xv === 0) continue;
        const base = k * out;
        for (let n = 0; n < out; n++) y[n] += xv * W[base + n];
      }
      if (bias) for (let n = 0; n < out; n++) y[n] += bias[n];
      return y;
    });
  };
  const rms = (row: Float64Array, weightName: string, offset = 0, length = row.length): void => {
    const g = w(weightName);
    let sum = 0;
    for (let i = 0; i < length; i++) sum += row[offset + i] ** 2;
    const inv = 1 / Math.sqrt(sum / length + spec.normEps);
    for (let i = 0; i < length; i++) row[offset + i] = row[offset + i] * inv * g[i];
  };
  const layerNorm = (row: Float64Array, name: string): Float64Array => {
    const g = w(`${name}.weight`);
    const b = w(`${name}.bias`);
    const mean = row.reduce((a, v) => a + v, 0) / row.length;
    const variance = row.reduce((a, v) => a + (v - mean) ** 2, 0) / row.length;
    const inv = 1 / Math.sqrt(variance + spec.normEps);
    return row.map((v, i) => (v - mean) * inv * g[i] + b[i]);
  };
  const embed = w('embed');
  let x: Float64Array[] = ids.map((id) => Float64Array.from(embed.subarray(id * H, (id + 1) * H)));
  const attend = (q: Float64Array[], k: Float64Array[], v: Float64Array[], heads: number, kvHeads: number): Float64Array[] =>
    q.map((qRow, i) => {
      const out = new Float64Array(heads * hd);
      for (let h = 0; h < heads; h++) {
        const kvh = Math.floor(h / (heads / kvHeads));
        const scores: number[] = [];
        for (let j = 0; j <= i; j++) {
          let s = 0;
          for (let d = 0; d < hd; d++) s += qRow[h * hd + d] * k[j][kvh * hd + d];
          scores.push(s / Math.sqrt(hd));
        }
        const max = Math.max(...scores);
        const exps = scores.map((s) => Math.exp(s - max));
        const total = exps.reduce((a, b) => a + b, 0);
        if (trace) ((trace.attention[trace.hidden.length] ??= [])[i] ??= [])[h] = exps.map((e) => e / total);
        for (let j = 0; j <= i; j++) for (let d = 0; d < hd; d++) out[h * hd + d] += (exps[j] / total) * v[j][kvh * hd + d];
      }
      return out;
    });
  if (spec.family === 'gpt_bigcode') {
    const wpe = w('wpe');
    x = x.map((row, p) => row.map((v, i) => v + wpe[p * H + i]));
    for (let l = 0; l < spec.numLayers; l++) {
      const p = `layers.${l}`;
      const qkv = matmul(x.map((row) => layerNorm(row, `${p}.ln_1`)), `${p}.c_attn`);
      const q = qkv.map((r) => r.slice(0, H));
      const k = qkv.map((r) => r.slice(H, H + hd));
      const v = qkv.map((r) => r.slice(H + hd, H + 2 * hd));
      const attn = matmul(attend(q, k, v, spec.numHeads, 1), `${p}.attn_proj`);
      x = x.map((row, i) => row.map((val, j) => val + attn[i][j]));
      const fc = matmul(x.map((row) => layerNorm(row, `${p}.ln_2`)), `${p}.c_fc`).map((row) =>
        row.map((u) => 0.5 * u * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (u + 0.044715 * u ** 3)))),
      );
      const mlp = matmul(fc, `${p}.mlp_proj`);
      x = x.map((row, i) => row.map((val, j) => val + mlp[i][j]));
      trace?.hidden.push(x.map((row) => Float64Array.from(row)));
    }
    if (trace) for (const hidden of trace.hidden) trace.lens.push(matmul(hidden.map((row) => layerNorm(row, 'ln_f')), 'lm_head'));
    x = x.map((row) => layerNorm(row, 'ln_f'));
  } else {
    const rope = (row: Float64Array, heads: number, pos: number) => {
      for (let h = 0; h < heads; h++) {
        const base = h * hd;
        for (let i = 0; i < hd / 2; i++) {
          const freq = 1 / Math.pow(spec.ropeTheta, (2 * i) / hd);
          // Tables are float32 in the graph; round the angle's cos/sin the same way.
          const c = Math.fround(Math.cos(pos * freq));
          const s = Math.fround(Math.sin(pos * freq));
          const a = row[base + i];
          const b = row[base + i + hd / 2];
          row[base + i] = a * c - b * s;
          row[base + i + hd / 2] = b * c + a * s;
        }
      }
    };
    for (let l = 0; l < spec.numLayers; l++) {
      const p = `layers.${l}`;
      const h = x.map((row) => {
        const copy = Float64Array.from(row);
        rms(copy, `${p}.input_layernorm.weight`);
        return copy;
      });
      const q = matmul(h, `${p}.q_proj`);
      const k = matmul(h, `${p}.k_proj`);
      const v = matmul(h, `${p}.v_proj`);
      q.forEach((row, pos) => {
        if (spec.family === 'qwen3') for (let hh = 0; hh < spec.numHeads; hh++) rms(row, `${p}.q_norm.weight`, hh * hd, hd);
        rope(row, spec.numHeads, pos);
      });
      k.forEach((row, pos) => {
        if (spec.family === 'qwen3') for (let hh = 0; hh < spec.numKvHeads; hh++) rms(row, `${p}.k_norm.weight`, hh * hd, hd);
        rope(row, spec.numKvHeads, pos);
      });
      const attn = matmul(attend(q, k, v, spec.numHeads, spec.numKvHeads), `${p}.o_proj`);
      x = x.map((row, i) => row.map((val, j) => val + attn[i][j]));
      const h2 = x.map((row) => {
        const copy = Float64Array.from(row);
        rms(copy, `${p}.post_attention_layernorm.weight`);
        return copy;
      });
      const gate = matmul(h2, `${p}.gate_proj`);
      const up = matmul(h2, `${p}.up_proj`);
      const act = gate.map((row, i) => row.map((gv, j) => (gv / (1 + Math.exp(-gv))) * up[i][j]));
      const down = matmul(act, `${p}.down_proj`);
      x = x.map((row, i) => row.map((val, j) => val + down[i][j]));
      trace?.hidden.push(x.map((row) => Float64Array.from(row)));
    }
    const finalNorm = (row: Float64Array) => {
      const copy = Float64Array.from(row);
      rms(copy, 'norm.weight');
      return copy;
    };
    if (trace) for (const hidden of trace.hidden) trace.lens.push(matmul(hidden.map(finalNorm), 'lm_head'));
    x = x.map((row) => {
      const copy = Float64Array.from(row);
      rms(copy, 'norm.weight');
      return copy;
    });
  }
  return matmul(x, 'lm_head');
}
