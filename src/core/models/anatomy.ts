/**
 * Where a decoder's parameters are, computed from its `config.json`: the embedding table, the
 * attention and MLP weights of every layer, the norms, and the output head. Used to put the built-in
 * model's numbers next to real models' (the Show Model Architecture view, `tokenscope model-info`):
 * a learner sees that a tiny model is mostly embedding table, and what grouped-query attention saves
 * in the KV cache.
 */
import { readArchitecture, type ModelArchitecture } from './architecture';

export interface ParameterBreakdown {
  /** Token embedding table: vocabulary × hidden size. */
  readonly embedding: number;
  /** Query, key, value and output projections (and their biases / norms) of all layers. */
  readonly attention: number;
  /** Gate, up and down projections of all layers. */
  readonly mlp: number;
  /** RMSNorm weights: two per layer plus the final one. */
  readonly norms: number;
  /** The output projection to the vocabulary; 0 when it shares the embedding table (tied). */
  readonly lmHead: number;
  readonly total: number;
}

export interface ModelAnatomy extends ModelArchitecture {
  readonly intermediateSize: number;
  readonly tiedEmbeddings: boolean;
  /** null for families whose weight layout this module does not know (the count would be a guess). */
  readonly parameters: ParameterBreakdown | null;
  /** KV-cache bytes one token of context costs with 16-bit keys and values: 2 × layers × kv heads × head dim × 2. */
  readonly kvCacheBytesPerToken: number;
}

/**
 * Per-family details of the transformer block that change the count. All families here use SwiGLU
 * MLPs (three hidden × intermediate matrices) and RMSNorm without bias.
 */
const BLOCK_LAYOUT: Readonly<Record<string, { qkvBias: boolean; qkNorm: boolean }>> = {
  llama: { qkvBias: false, qkNorm: false },
  mistral: { qkvBias: false, qkNorm: false },
  qwen2: { qkvBias: true, qkNorm: false },
  qwen3: { qkvBias: false, qkNorm: true },
  smollm3: { qkvBias: false, qkNorm: false },
};

function countParameters(arch: ModelArchitecture, intermediate: number, tied: boolean): ParameterBreakdown | null {
  const layout = BLOCK_LAYOUT[arch.modelType];
  if (!layout || intermediate <= 0) return null;
  const { hiddenSize: h, numLayers: layers, vocabSize: vocab } = arch;
  const qDim = arch.numHeads * arch.headDim;
  const kvDim = arch.numKvHeads * arch.headDim;
  const perLayerAttention =
    h * qDim + 2 * h * kvDim + qDim * h + (layout.qkvBias ? qDim + 2 * kvDim : 0) + (layout.qkNorm ? 2 * arch.headDim : 0);
  const perLayerMlp = 3 * h * intermediate;
  const embedding = vocab * h;
  const attention = layers * perLayerAttention;
  const mlp = layers * perLayerMlp;
  const norms = layers * 2 * h + h;
  const lmHead = tied ? 0 : vocab * h;
  return { embedding, attention, mlp, norms, lmHead, total: embedding + attention + mlp + norms + lmHead };
}

/** Reads config.json's object (throws ModelError for unsupported or broken configs, like the runtime). */
export function modelAnatomy(config: unknown, file = 'config.json'): ModelAnatomy {
  const arch = readArchitecture(config, file);
  const raw = config as Record<string, unknown>;
  const intermediateSize = typeof raw.intermediate_size === 'number' ? raw.intermediate_size : 0;
  // Hugging Face's default for tie_word_embeddings is true; Qwen2 configs state it either way.
  const tiedEmbeddings = raw.tie_word_embeddings !== false;
  return {
    ...arch,
    intermediateSize,
    tiedEmbeddings,
    parameters: countParameters(arch, intermediateSize, tiedEmbeddings),
    kvCacheBytesPerToken: 2 * arch.numLayers * arch.numKvHeads * arch.headDim * 2,
  };
}
