/**
 * Writes tiny random-weight ONNX decoder models in the exact Hugging Face / transformers.js folder
 * layout (config.json, generation_config.json, tokenizer.json, tokenizer_config.json, onnx/*.onnx),
 * so every loader path of the runtime is tested without downloads.
 *
 *   node --import tsx tools/make-test-models.ts [outDir]      (default: test/fixtures/models)
 *
 * The output is deterministic and committed; a unit test checks the committed files are current.
 * The bench imports `writeModelFolder` to build bigger models of the same layout.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildDecoderGraph, makeWeights, randomQ4, weightShapes, weightSource, type DecoderSpec, type GraphOptions, type Weights } from './test-models/decoder';
import { buildTokenizer, type TokenizerFiles } from './test-models/tokenizer';

export interface ModelFolderSpec {
  readonly name: string;
  readonly spec: DecoderSpec;
  /** onnx/<file> → graph options. */
  readonly files: Readonly<Record<string, GraphOptions>>;
  readonly chatTemplate?: string;
  readonly generation?: Readonly<Record<string, unknown>>;
  /** Random 4-bit weights generated straight into packed form (no float copy, no reference). */
  readonly packedRandomWeights?: boolean;
  /** Tokenizer files to use instead of the tiny test tokenizer (e.g. Qwen's, for benchmarks). */
  readonly tokenizer?: TokenizerFiles;
}

/** Tokenizer files of an existing folder (tokenizer.json + tokenizer_config.json). */
export function tokenizerFilesFrom(dir: string): TokenizerFiles {
  const tokenizerJson = readFileSync(join(dir, 'tokenizer.json'), 'utf8');
  const parsed = JSON.parse(tokenizerJson) as { added_tokens: { id: number; content: string }[]; model: { vocab: Record<string, number> } };
  const added = new Map(parsed.added_tokens.map((token) => [token.content, token.id] as [string, number]));
  let size = 0;
  for (const id of [...Object.values(parsed.model.vocab), ...added.values()]) size = Math.max(size, id + 1);
  return { tokenizerJson, tokenizerConfigJson: readFileSync(join(dir, 'tokenizer_config.json'), 'utf8'), size, added };
}

const BASE: Omit<GraphOptions, 'style'> = { kvType: 'float', logitsType: 'float', weights: 'fp32', positionIds: true, numLogitsToKeep: false, useCacheBranch: false };

/** A ChatML template that also understands Qwen3's `enable_thinking` switch. */
export const THINKING_TEMPLATE =
  "{%- for message in messages %}{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}{%- endfor %}" +
  "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}" +
  "{%- if enable_thinking is defined and enable_thinking is false %}{{- '<think>\\n\\n</think>\\n\\n' }}{%- endif %}{%- endif %}";

let sharedTokenizer: TokenizerFiles | undefined;
export function testTokenizer(chatTemplate?: string): TokenizerFiles {
  if (!chatTemplate) return (sharedTokenizer ??= buildTokenizer({ merges: 160 }));
  return buildTokenizer({ merges: 160, chatTemplate });
}

/** Vocabulary size of the test models: the tokenizer's, padded like Qwen's (ids without tokens exist). */
export function testVocabSize(): number {
  return Math.ceil(testTokenizer().size / 8) * 8;
}

export const FIXTURES: readonly ModelFolderSpec[] = [
  {
    // Optimum-style Qwen2 with GQA: fp32, fp16 KV cache and logits, and 4-bit MatMulNBits variants.
    name: 'tiny-qwen2',
    spec: { family: 'qwen2', vocabSize: testVocabSize(), hiddenSize: 32, numLayers: 2, numHeads: 4, numKvHeads: 2, intermediateSize: 64, maxPositions: 128, ropeTheta: 10000, normEps: 1e-6, seed: 1 },
    files: {
      'model.onnx': { ...BASE, style: 'optimum' },
      'model_fp16.onnx': { ...BASE, style: 'optimum', kvType: 'float16', logitsType: 'float16' },
      'model_q4.onnx': { ...BASE, style: 'optimum', weights: 'q4' },
    },
  },
  {
    // onnxruntime-genai style Qwen3: GroupQueryAttention, RotaryEmbedding, q/k norms,
    // num_logits_to_keep, weights in an external .onnx_data file.
    name: 'tiny-qwen3',
    spec: { family: 'qwen3', vocabSize: testVocabSize(), hiddenSize: 64, numLayers: 2, numHeads: 4, numKvHeads: 2, intermediateSize: 96, maxPositions: 256, ropeTheta: 1000000, normEps: 1e-6, seed: 2 },
    files: { 'model.onnx': { ...BASE, style: 'contrib', numLogitsToKeep: true, externalDataName: 'model.onnx_data' } },
    chatTemplate: THINKING_TEMPLATE,
  },
  {
    // gpt_bigcode (StarCoder-style): multi-query, fused past_key_values.{i}.key_value, no
    // position_ids input, merged-decoder use_cache_branch flag.
    name: 'tiny-bigcode',
    spec: { family: 'gpt_bigcode', vocabSize: testVocabSize(), hiddenSize: 32, numLayers: 2, numHeads: 4, numKvHeads: 1, intermediateSize: 64, maxPositions: 128, ropeTheta: 0, normEps: 1e-5, seed: 3 },
    files: { 'model.onnx': { ...BASE, style: 'optimum', positionIds: false, useCacheBranch: true } },
  },
];

function configJson(spec: DecoderSpec, tokenizer: TokenizerFiles): Record<string, unknown> {
  const eos = tokenizer.added.get('<|endoftext|>');
  if (spec.family === 'gpt_bigcode') {
    return {
      architectures: ['GPTBigCodeForCausalLM'],
      model_type: 'gpt_bigcode',
      n_embd: spec.hiddenSize,
      n_head: spec.numHeads,
      n_layer: spec.numLayers,
      n_inner: spec.intermediateSize,
      n_positions: spec.maxPositions,
      multi_query: true,
      layer_norm_epsilon: spec.normEps,
      activation_function: 'gelu_pytorch_tanh',
      vocab_size: spec.vocabSize,
      bos_token_id: eos,
      eos_token_id: eos,
      torch_dtype: 'float32',
    };
  }
  return {
    architectures: [spec.family === 'qwen3' ? 'Qwen3ForCausalLM' : 'Qwen2ForCausalLM'],
    model_type: spec.family,
    hidden_size: spec.hiddenSize,
    intermediate_size: spec.intermediateSize,
    num_attention_heads: spec.numHeads,
    num_key_value_heads: spec.numKvHeads,
    num_hidden_layers: spec.numLayers,
    ...(spec.family === 'qwen3' ? { head_dim: spec.hiddenSize / spec.numHeads } : {}),
    max_position_embeddings: spec.maxPositions,
    rms_norm_eps: spec.normEps,
    rope_theta: spec.ropeTheta,
    hidden_act: 'silu',
    tie_word_embeddings: false,
    vocab_size: spec.vocabSize,
    bos_token_id: eos,
    eos_token_id: tokenizer.added.get('<|im_end|>'),
    torch_dtype: 'float32',
  };
}

/** Writes one model folder; returns the float weights (absent for packed random weights). */
export function writeModelFolder(root: string, folder: ModelFolderSpec): { dir: string; weights?: Weights } {
  const dir = join(root, folder.name);
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  const tokenizer = folder.tokenizer ?? testTokenizer(folder.chatTemplate);
  if (folder.spec.vocabSize < tokenizer.size) throw new Error(`${folder.name}: vocabSize ${folder.spec.vocabSize} < tokenizer size ${tokenizer.size}`);
  const json = (name: string, value: unknown) => writeFileSync(join(dir, name), `${JSON.stringify(value, null, 2)}\n`);
  json('config.json', configJson(folder.spec, tokenizer));
  json('generation_config.json', {
    bos_token_id: tokenizer.added.get('<|endoftext|>'),
    eos_token_id: [tokenizer.added.get('<|im_end|>'), tokenizer.added.get('<|endoftext|>')],
    pad_token_id: tokenizer.added.get('<|endoftext|>'),
    do_sample: false,
    ...folder.generation,
  });
  writeFileSync(join(dir, 'tokenizer.json'), tokenizer.tokenizerJson);
  writeFileSync(join(dir, 'tokenizer_config.json'), `${tokenizer.tokenizerConfigJson}\n`);
  let weights: Weights | undefined;
  let source;
  if (folder.packedRandomWeights) {
    source = packedSource(folder.spec);
  } else {
    weights = makeWeights(folder.spec);
  }
  for (const [file, options] of Object.entries(folder.files)) {
    const bytes = buildDecoderGraph(folder.spec, options, source ?? weightSource(folder.spec, weights!, options));
    writeFileSync(join(dir, 'onnx', file), bytes.model);
    if (bytes.externalData && options.externalDataName) writeFileSync(join(dir, 'onnx', options.externalDataName), bytes.externalData);
  }
  return { dir, weights };
}

/**
 * Weights for big benchmark models: 4-bit linear layers drawn directly, float norms/embeddings.
 * Deterministic: calling it again gives the same weights (the bench writes them as GGUF too).
 */
export function packedSource(spec: DecoderSpec): Parameters<typeof buildDecoderGraph>[2] {
  const shapes = weightShapes(spec);
  const small = new Map<string, { dims: readonly number[]; data: Float32Array }>();
  return (name) => {
    const shape = shapes.get(name);
    if (!shape) throw new Error(`no weight ${name}`);
    if (name.endsWith('.weight') && shape.dims.length === 2 && name !== 'embed' && name !== 'wpe') {
      return { q4: randomQ4(spec.seed, name, shape.dims[0], shape.dims[1], shape.std), dims: shape.dims };
    }
    let w = small.get(name);
    if (!w) {
      const size = shape.dims.reduce((a, b) => a * b, 1);
      const data = new Float32Array(size);
      // Deterministic cheap fill: embeddings need no statistical quality for a speed test.
      let state = 12345;
      for (let i = 0; i < size; i++) {
        state = (Math.imul(state, 1103515245) + 12345) >>> 0;
        data[i] = (shape.mean ?? 0) + ((state >>> 8) / 16777216 - 0.5) * 2 * shape.std;
      }
      w = { dims: shape.dims, data };
      small.set(name, w);
    }
    return w;
  };
}

if (require.main === module) {
  const root = process.argv[2] ?? join(__dirname, '..', 'test', 'fixtures', 'models');
  for (const folder of FIXTURES) {
    const { dir } = writeModelFolder(root, folder);
    process.stdout.write(`wrote ${dir}\n`);
  }
}
