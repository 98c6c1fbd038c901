// The GGUF writer (tools/gguf): files read back with @huggingface/gguf's parser, metadata bytes
// equal to its serializer's, and tensors that decode to exactly the weights the ONNX models hold.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { GGMLQuantizationType, GGUFValueType, gguf as parseGguf, serializeGgufMetadata, type GGUFTypedMetadata } from '@huggingface/gguf';
import { decodeGgml, encodeF16, encodeQ4_0, encodeQ8_0, gguf, metadataBytes, q4_0FromMatMulNBits, writeGguf, type GgmlTypeName } from '../../../tools/gguf/gguf';
import { decoderHyperparameters, decoderWeights, dequantizeMatMulNBits, huggingFaceOnnxWeights, readOnnxInitializers, writeQwen2Gguf, type LinearName } from '../../../tools/gguf/qwen2Gguf';
import { packedSource, testTokenizer, testVocabSize } from '../../../tools/make-test-models';
import { makeWeights, quantizeQ4, weightSource, type DecoderSpec } from '../../../tools/test-models/decoder';
import { repoRoot, tempDir } from '../runtime/helpers';

const SPEC: DecoderSpec = { family: 'qwen2', vocabSize: testVocabSize(), hiddenSize: 64, numLayers: 2, numHeads: 4, numKvHeads: 2, intermediateSize: 96, maxPositions: 256, ropeTheta: 10000, normEps: 1e-6, seed: 5 };

interface ReadBack {
  readonly metadata: Record<string, unknown>;
  readonly tensors: Map<string, { shape: number[]; type: GGMLQuantizationType; bytes: Uint8Array }>;
}

/** Parses with @huggingface/gguf and slices each tensor's bytes from the file by its info. */
async function readBack(path: string): Promise<ReadBack> {
  const parsed = await parseGguf(path, { allowLocalFile: true });
  const file = new Uint8Array(readFileSync(path));
  const order = [...parsed.tensorInfos].sort((a, b) => Number(a.offset - b.offset));
  const tensors = new Map<string, { shape: number[]; type: GGMLQuantizationType; bytes: Uint8Array }>();
  const dataStart = Number(parsed.tensorDataOffset);
  order.forEach((info, i) => {
    const start = dataStart + Number(info.offset);
    const end = i + 1 < order.length ? dataStart + Number(order[i + 1].offset) : file.length;
    assert.equal(Number(info.offset) % 32, 0, `${info.name} offset is aligned`);
    tensors.set(info.name, { shape: info.shape.map(Number), type: info.dtype, bytes: file.subarray(start, end) });
  });
  return { metadata: parsed.metadata as unknown as Record<string, unknown>, tensors };
}

const TYPE_NAMES: Record<number, GgmlTypeName> = { [GGMLQuantizationType.F32]: 'F32', [GGMLQuantizationType.F16]: 'F16', [GGMLQuantizationType.Q8_0]: 'Q8_0', [GGMLQuantizationType.Q4_0]: 'Q4_0' };

function decodeTensor(t: { shape: number[]; type: GGMLQuantizationType; bytes: Uint8Array }): Float32Array {
  return decodeGgml(TYPE_NAMES[t.type], t.bytes, t.shape.reduce((a, b) => a * b, 1));
}

const PROJECTIONS: readonly [LinearName, string][] = [['q', 'attn_q'], ['k', 'attn_k'], ['v', 'attn_v'], ['o', 'attn_output'], ['gate', 'ffn_gate'], ['up', 'ffn_up'], ['down', 'ffn_down']];

describe('GGUF writer', () => {
  it('writes the same metadata bytes as @huggingface/gguf serializeGgufMetadata, and its reader reads them back', async () => {
    const metadata = {
      'general.architecture': gguf.str('qwen2'),
      'general.name': gguf.str('名前 test'),
      'general.alignment': gguf.u32(64),
      'qwen2.rope.freq_base': gguf.f32(1e6),
      'tokenizer.ggml.add_bos_token': gguf.bool(false),
      'tokenizer.ggml.tokens': gguf.strings(['a', 'Ġb', '<|im_end|>']),
      'tokenizer.ggml.token_type': gguf.i32s([1, 1, 3]),
    };
    const typed = {
      version: { value: 3, type: GGUFValueType.UINT32 },
      tensor_count: { value: 1n, type: GGUFValueType.UINT64 },
      kv_count: { value: 7n, type: GGUFValueType.UINT64 },
      'general.architecture': { value: 'qwen2', type: GGUFValueType.STRING },
      'general.name': { value: '名前 test', type: GGUFValueType.STRING },
      'general.alignment': { value: 64, type: GGUFValueType.UINT32 },
      'qwen2.rope.freq_base': { value: 1e6, type: GGUFValueType.FLOAT32 },
      'tokenizer.ggml.add_bos_token': { value: false, type: GGUFValueType.BOOL },
      'tokenizer.ggml.tokens': { value: ['a', 'Ġb', '<|im_end|>'], type: GGUFValueType.ARRAY, subType: GGUFValueType.STRING },
      'tokenizer.ggml.token_type': { value: [1, 1, 3], type: GGUFValueType.ARRAY, subType: GGUFValueType.INT32 },
    } as unknown as GGUFTypedMetadata;
    const ours = metadataBytes(metadata, 1);
    const theirs = serializeGgufMetadata(typed, { alignment: 64 });
    assert.deepEqual(ours, theirs.subarray(0, ours.length));
    assert.ok(theirs.subarray(ours.length).every((byte) => byte === 0), 'the rest of theirs is padding');

    const { dir, cleanup } = tempDir();
    try {
      const path = join(dir, 'meta.gguf');
      const values = Float32Array.from({ length: 64 }, (_, i) => i - 31.5);
      const size = writeGguf(path, metadata, [{ name: 'x.weight', dims: [32, 2], type: 'F16', data: encodeF16(values) }]);
      const back = await readBack(path);
      assert.equal(back.metadata['general.name'], '名前 test');
      assert.deepEqual(back.metadata['tokenizer.ggml.tokens'], ['a', 'Ġb', '<|im_end|>']);
      assert.deepEqual(back.metadata['tokenizer.ggml.token_type'], [1, 1, 3]);
      assert.equal(back.metadata['tokenizer.ggml.add_bos_token'], false);
      const tensor = back.tensors.get('x.weight')!;
      assert.deepEqual(tensor.shape, [32, 2]);
      assert.equal(tensor.type, GGMLQuantizationType.F16);
      assert.equal(size, readFileSync(path).length);
      assert.deepEqual(decodeTensor(tensor), values, 'halves of small integers are exact');
    } finally {
      cleanup();
    }
  });

  it('rejects what llama.cpp would reject: long names, wrong sizes, bad keys, rows not a multiple of the block', () => {
    const { dir, cleanup } = tempDir();
    try {
      const path = join(dir, 'bad.gguf');
      const f32 = (n: number) => new Uint8Array(4 * n);
      assert.throws(() => writeGguf(path, {}, [{ name: 'x'.repeat(65), dims: [4], type: 'F32', data: f32(4) }]), /longer than 64 bytes/);
      assert.throws(() => writeGguf(path, {}, [{ name: 'x', dims: [4], type: 'F32', data: f32(3) }]), /12 bytes .* expected 16/);
      assert.throws(() => writeGguf(path, { 'General.Name': gguf.str('x') }, []), /lower_snake_case/);
      assert.throws(() => writeGguf(path, {}, [{ name: 'x', dims: [48], type: 'Q4_0', data: new Uint8Array(27) }]), /multiple of 32/);
      assert.throws(() => writeGguf(path, {}, [{ name: 'x', dims: [4], type: 'F32', data: f32(4) }, { name: 'x', dims: [4], type: 'F32', data: f32(4) }]), /written twice/);
      assert.throws(() => writeGguf(path, { 'general.alignment': gguf.u32(12) }, []), /multiple of 8/);
    } finally {
      cleanup();
    }
  });

  it('Q4_0 and Q8_0 blocks decode to what they encode (ggml layout: low nibbles are weights 0-15)', () => {
    const values = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i * 0.7) * (i < 32 ? 1 : 0.01));
    const q4 = decodeGgml('Q4_0', encodeQ4_0(values), 64);
    const q8 = decodeGgml('Q8_0', encodeQ8_0(values), 64);
    for (let block = 0; block < 2; block++) {
      const slice = values.subarray(block * 32, block * 32 + 32);
      const maxAbs = Math.max(...slice.map(Math.abs));
      for (let j = 0; j < 32; j++) {
        assert.ok(Math.abs(q4[block * 32 + j] - slice[j]) <= (maxAbs / 7) * 0.5 + 1e-3 * maxAbs, `q4 ${block}:${j}`);
        assert.ok(Math.abs(q8[block * 32 + j] - slice[j]) <= (maxAbs / 127) * 0.5 + 1e-3 * maxAbs, `q8 ${block}:${j}`);
      }
    }
    // A block whose first weight is the largest: its nibble must land in the low half of byte 0.
    const ramp = Float32Array.from({ length: 32 }, (_, i) => (i === 0 ? 7 : i === 16 ? -7 : 0));
    const bytes = encodeQ4_0(ramp);
    assert.equal(bytes[2] & 15, 15, 'weight 0: nibble 15 (7 / d + 8) in the low half');
    assert.equal(bytes[2] >> 4, 1, 'weight 16: nibble 1 (-7 / d + 8) in the high half');
  });

  it('repacks MatMulNBits 4-bit blocks into Q4_0 holding exactly the same weights', () => {
    const K = 64;
    const N = 3;
    const weight = Float32Array.from({ length: K * N }, (_, i) => Math.cos(i * 1.3) * (1 + (i % 5)));
    const q = quantizeQ4(weight, K, N);
    // fp16-exact scales: the repack is lossless.
    const scales = q.scales.map((s) => decodeGgml('F16', encodeF16(Float32Array.of(s)), 1)[0]);
    const repacked = q4_0FromMatMulNBits(q.packed, scales, K, N);
    assert.equal(repacked.inexactScales, 0);
    assert.deepEqual(decodeGgml('Q4_0', repacked.bytes, K * N), dequantizeMatMulNBits({ kind: 'matmulnbits', K, N, packed: q.packed, scales }));
    // The fp32 scales of quantizeQ4 are not fp16 values: reported, not hidden.
    const rounded = q4_0FromMatMulNBits(q.packed, q.scales, K, N);
    assert.ok(rounded.inexactScales > 0);
    assert.ok(rounded.maxScaleRelativeError > 0 && rounded.maxScaleRelativeError < 1e-3);
    // And the dequantized MatMulNBits weight is the [K, N] weight quantizeQ4 says the graph computes
    // with (quantizeQ4 multiplies by the float64 scale before storing it as float32: 1e-7 apart).
    const rows = dequantizeMatMulNBits({ kind: 'matmulnbits', K, N, packed: q.packed, scales: q.scales });
    for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) assert.ok(Math.abs(rows[n * K + k] - q.dequantized[k * N + n]) <= 1e-6 * Math.abs(q.dequantized[k * N + n]), `${k},${n}`);
  });
});

describe('Qwen2 models as GGUF', () => {
  it('a 4-bit bench-style model: llama.cpp names and hyperparameters, Q4_0 weights equal to the ONNX MatMulNBits blocks', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const path = join(dir, 'q4.gguf');
      const source = packedSource(SPEC);
      const tokenizer = testTokenizer();
      const result = writeQwen2Gguf(path, { name: 'tiny', hyperparameters: decoderHyperparameters(SPEC), weights: decoderWeights(source), tokenizer: { tokenizerJson: tokenizer.tokenizerJson, eosTokenId: tokenizer.added.get('<|endoftext|>') }, linearType: 'Q4_0' });
      assert.equal(result.inexactScales, 0, 'bench weights have fp16 scales');
      const back = await readBack(path);
      const m = back.metadata;
      assert.equal(m['general.architecture'], 'qwen2');
      assert.equal(m['general.file_type'], 2);
      assert.equal(m['qwen2.block_count'], 2);
      assert.equal(m['qwen2.embedding_length'], 64);
      assert.equal(m['qwen2.attention.head_count'], 4);
      assert.equal(m['qwen2.attention.head_count_kv'], 2);
      assert.equal(m['qwen2.feed_forward_length'], 96);
      assert.equal(m['qwen2.context_length'], 256);
      assert.equal(m['tokenizer.ggml.model'], 'gpt2');
      assert.equal(m['tokenizer.ggml.pre'], 'qwen2');
      const tokens = m['tokenizer.ggml.tokens'] as string[];
      const types = m['tokenizer.ggml.token_type'] as number[];
      assert.equal(tokens.length, SPEC.vocabSize);
      const vocab = (JSON.parse(tokenizer.tokenizerJson) as { model: { vocab: Record<string, number> } }).model.vocab;
      for (const [content, id] of Object.entries(vocab)) assert.equal(tokens[id], content);
      assert.equal(tokens[tokenizer.added.get('<|im_end|>')!], '<|im_end|>');
      assert.equal(types[tokenizer.added.get('<|im_end|>')!], 3, 'special added tokens are control tokens');
      if (SPEC.vocabSize > tokenizer.size) assert.equal(types[SPEC.vocabSize - 1], 5, 'padding rows are unused tokens');

      assert.equal(back.tensors.size, 1 + SPEC.numLayers * 12 + 2);
      const embed = back.tensors.get('token_embd.weight')!;
      assert.deepEqual(embed.shape, [64, SPEC.vocabSize]);
      assert.deepEqual(decodeTensor(embed), (source('embed') as { data: Float32Array }).data);
      const weights = decoderWeights(source);
      for (let layer = 0; layer < SPEC.numLayers; layer++) {
        for (const [name, tensorName] of PROJECTIONS) {
          const t = back.tensors.get(`blk.${layer}.${tensorName}.weight`)!;
          const w = weights.linear(layer, name);
          assert.equal(w.kind, 'matmulnbits');
          assert.equal(t.type, GGMLQuantizationType.Q4_0);
          assert.deepEqual(t.shape, [w.K, w.N], `${tensorName} dims are [in, out]`);
          if (w.kind === 'matmulnbits') assert.deepEqual(decodeTensor(t), dequantizeMatMulNBits(w), `blk.${layer}.${tensorName}`);
        }
        assert.deepEqual(decodeTensor(back.tensors.get(`blk.${layer}.attn_q.bias`)!), weights.bias(layer, 'q'));
        assert.deepEqual(decodeTensor(back.tensors.get(`blk.${layer}.ffn_norm.weight`)!), weights.norm(layer, 'ffn'));
      }
      assert.deepEqual(back.tensors.get('output.weight')!.shape, [64, SPEC.vocabSize]);
      assert.deepEqual(decodeTensor(back.tensors.get('output_norm.weight')!), weights.finalNorm());
    } finally {
      cleanup();
    }
  });

  it('float weights: F32 exactly, F16 and Q8_0 within their rounding, stored as ggml [in, out] rows', async () => {
    const floats = makeWeights(SPEC);
    const source = weightSource(SPEC, floats, { weights: 'fp32' });
    const tokenizer = testTokenizer();
    const { dir, cleanup } = tempDir();
    try {
      for (const type of ['F32', 'F16', 'Q8_0'] as const) {
        const path = join(dir, `${type}.gguf`);
        writeQwen2Gguf(path, { name: 'tiny', hyperparameters: decoderHyperparameters(SPEC), weights: decoderWeights(source), tokenizer: { tokenizerJson: tokenizer.tokenizerJson }, linearType: type });
        const back = await readBack(path);
        const t = back.tensors.get('blk.1.ffn_down.weight')!;
        assert.deepEqual(t.shape, [96, 64]);
        const decoded = decodeTensor(t);
        const graphWeight = floats.get('layers.1.down_proj.weight')!.data; // [K=96, N=64], x @ W
        let maxError = 0;
        for (let k = 0; k < 96; k++) for (let n = 0; n < 64; n++) maxError = Math.max(maxError, Math.abs(decoded[n * 96 + k] - graphWeight[k * 64 + n]));
        const limit = type === 'F32' ? 0 : type === 'F16' ? 1e-3 : 0.25 / 127 + 1e-3;
        assert.ok(maxError <= limit, `${type}: max error ${maxError} > ${limit}`);
      }
    } finally {
      cleanup();
    }
  });

  it('tokenscope-mini: every fp32 initializer of its ONNX file, tied embeddings, its own 8192-token vocabulary', async () => {
    const onnxPath = join(repoRoot, 'models', 'tokenscope-mini', 'onnx', 'model.onnx');
    const config = JSON.parse(readFileSync(join(repoRoot, 'models', 'tokenscope-mini', 'config.json'), 'utf8')) as Record<string, number>;
    const { dir, cleanup } = tempDir();
    try {
      const path = join(dir, 'mini.gguf');
      writeQwen2Gguf(path, {
        name: 'tokenscope-mini',
        hyperparameters: { vocabSize: config.vocab_size, hiddenSize: config.hidden_size, numLayers: config.num_hidden_layers, numHeads: config.num_attention_heads, numKvHeads: config.num_key_value_heads, intermediateSize: config.intermediate_size, contextLength: config.max_position_embeddings, ropeTheta: config.rope_theta, normEps: config.rms_norm_eps },
        weights: huggingFaceOnnxWeights(onnxPath),
        tokenizer: { tokenizerJson: readFileSync(join(repoRoot, 'models', 'tokenscope-mini', 'tokenizer.json'), 'utf8'), eosTokenId: config.eos_token_id },
        linearType: 'F32',
      });
      const back = await readBack(path);
      assert.equal(back.tensors.has('output.weight'), false, 'tied: llama.cpp uses token_embd');
      assert.equal((back.metadata['tokenizer.ggml.tokens'] as string[]).length, 8192);
      const initializers = readOnnxInitializers(new Uint8Array(readFileSync(onnxPath)));
      const ggufName = (name: string) =>
        name
          .replace('model.embed_tokens.weight', 'token_embd.weight')
          .replace('model.norm.weight', 'output_norm.weight')
          .replace(/^model\.layers\.(\d+)\./, 'blk.$1.')
          .replace('input_layernorm', 'attn_norm')
          .replace('post_attention_layernorm', 'ffn_norm')
          .replace(/self_attn\.(q|k|v)_proj/, 'attn_$1')
          .replace('self_attn.o_proj', 'attn_output')
          .replace(/mlp\.(gate|up|down)_proj/, 'ffn_$1');
      assert.equal(initializers.size, back.tensors.size);
      for (const [name, init] of initializers) {
        const t = back.tensors.get(ggufName(name));
        assert.ok(t, `${name} → ${ggufName(name)}`);
        assert.deepEqual(t.shape, [...init.dims].reverse(), `${name} dims`);
        assert.deepEqual(t.bytes.subarray(0, init.raw.length), init.raw, `${name} bytes`);
      }
    } finally {
      cleanup();
    }
  });
});
