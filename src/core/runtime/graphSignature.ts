/**
 * Reads what an ONNX decoder graph declares (inputs, outputs, their types and shapes) and checks
 * it is a text decoder the runtime can feed: Hugging Face exports differ in optional inputs
 * (`position_ids`, `use_cache_branch`, `num_logits_to_keep`), cache dtype (fp32/fp16) and cache
 * layout (separate key/value, or gpt_bigcode's fused key_value).
 */
import type { ModelArchitecture } from '../models/architecture';
import { ModelError } from '../models/errors';

export interface ValueMetadata {
  readonly name: string;
  readonly isTensor: boolean;
  readonly type?: string;
  readonly shape?: readonly (number | string)[];
}

export type CacheType = 'float32' | 'float16';

export interface CacheLayer {
  readonly pastName: string;
  readonly presentName: string;
}

export interface GraphSignature {
  readonly inputNames: readonly string[];
  readonly hasAttentionMask: boolean;
  readonly hasPositionIds: boolean;
  readonly hasUseCacheBranch: boolean;
  /** Present when the graph can compute logits for the last positions only. */
  readonly numLogitsToKeep?: { readonly name: string; readonly type: 'int64' | 'int32'; readonly scalar: boolean };
  readonly logitsName: string;
  readonly logitsType: CacheType;
  readonly cacheType: CacheType;
  readonly fused: boolean;
  /** Cache tensors in feed order. */
  readonly cache: readonly CacheLayer[];
  /** Shape of one empty cache tensor (past length 0). */
  readonly emptyCacheShape: readonly number[];
  /** Axis of the past-length dimension in cache tensors. */
  readonly pastAxis: number;
}

const KNOWN_INPUTS = new Set(['input_ids', 'attention_mask', 'position_ids', 'use_cache_branch', 'num_logits_to_keep']);
const PAST = /^past_key_values\.(\d+)\.(key|value|key_value)$/;

function floatType(type: string | undefined, what: string, file: string): CacheType {
  if (type === 'float32' || type === 'float16') return type;
  throw new ModelError('unexpected-graph', `${file}: ${what} has type ${type ?? 'unknown'}; Tokenscope runs graphs whose cache and logits are float32 or float16. Choose another variant of the model (e.g. q4 or fp32).`, file);
}

export function readGraphSignature(inputs: readonly ValueMetadata[], outputs: readonly ValueMetadata[], architecture: ModelArchitecture, file: string): GraphSignature {
  const inputNames = inputs.map((input) => input.name);
  const outputNames = new Set(outputs.map((output) => output.name));
  const unexpected = inputNames.filter((name) => !KNOWN_INPUTS.has(name) && !PAST.test(name));
  if (unexpected.length > 0) {
    throw new ModelError(
      'unexpected-graph',
      `${file} declares input${unexpected.length > 1 ? 's' : ''} ${unexpected.map((name) => `"${name}"`).join(', ')} that a text decoder does not have: it is not a decoder-only text-generation export (an encoder, a vision or speech model, or a graph without KV cache?). Use a "text-generation-with-past" ONNX export such as onnx-community's.`,
      file,
    );
  }
  if (!inputNames.includes('input_ids')) {
    throw new ModelError('unexpected-graph', `${file} has no "input_ids" input: it is not a text decoder export. Use a text-generation ONNX export of the model.`, file);
  }
  if (!outputNames.has('logits')) {
    throw new ModelError('unexpected-graph', `${file} has no "logits" output: it is not a causal language model export. Use a text-generation ONNX export of the model.`, file);
  }
  const pastInputs = inputs.filter((input) => PAST.test(input.name));
  if (pastInputs.length === 0) {
    throw new ModelError(
      'unexpected-graph',
      `${file} has no past_key_values inputs: it was exported without KV cache, which would make every token cost a full pass. Use a "with-past" export (transformers.js / onnx-community exports have it).`,
      file,
    );
  }
  const fused = pastInputs.some((input) => input.name.endsWith('.key_value'));
  const layers = new Set(pastInputs.map((input) => Number(PAST.exec(input.name)![1])));
  const cache: CacheLayer[] = [];
  for (let layer = 0; layer < layers.size; layer++) {
    if (!layers.has(layer)) throw new ModelError('unexpected-graph', `${file}: past_key_values.${layer}.* is missing (layers are not numbered 0..${layers.size - 1}). The export is broken: download it again.`, file);
    for (const part of fused ? ['key_value'] : ['key', 'value']) {
      const pastName = `past_key_values.${layer}.${part}`;
      const presentName = `present.${layer}.${part}`;
      if (!inputNames.includes(pastName)) throw new ModelError('unexpected-graph', `${file} declares past_key_values.${layer} without "${pastName}"; the export is broken: download it again.`, file);
      if (!outputNames.has(presentName)) throw new ModelError('unexpected-graph', `${file} has input "${pastName}" but no output "${presentName}"; the export is broken: download it again.`, file);
      cache.push({ pastName, presentName });
    }
  }
  if (layers.size !== architecture.numLayers) {
    throw new ModelError('unexpected-graph', `${file} has ${layers.size} cache layers but config.json says ${architecture.numLayers}: the ONNX file and config.json belong to different models. Download them from the same export.`, file);
  }
  const first = pastInputs[0];
  const cacheType = floatType(first.type, `"${first.name}"`, file);
  const shape = first.shape ?? [];
  const pastAxis = Math.max(0, shape.length - 2);
  // Fixed dims come from the graph; symbolic ones (batch, past length, sometimes heads) from config.json.
  const expected = fused ? [1, 0, 2 * architecture.headDim] : [1, architecture.numKvHeads, 0, architecture.headDim];
  if (shape.length !== expected.length && shape.length !== 0) {
    throw new ModelError('unexpected-graph', `${file}: "${first.name}" has ${shape.length} dimensions, expected ${expected.length} ([batch, ${fused ? 'past, 2 x head_dim' : 'kv_heads, past, head_dim'}]). The graph does not match its model type: use a standard Hugging Face ONNX export.`, file);
  }
  const emptyCacheShape = expected.map((fallback, axis) => {
    const dim = shape[axis];
    if (axis === 0) return 1;
    if (axis === pastAxis) return 0;
    return typeof dim === 'number' ? dim : fallback;
  });
  const logits = outputs.find((output) => output.name === 'logits')!;
  const keep = inputs.find((input) => input.name === 'num_logits_to_keep');
  return {
    inputNames,
    hasAttentionMask: inputNames.includes('attention_mask'),
    hasPositionIds: inputNames.includes('position_ids'),
    hasUseCacheBranch: inputNames.includes('use_cache_branch'),
    numLogitsToKeep: keep ? { name: keep.name, type: keep.type === 'int32' ? 'int32' : 'int64', scalar: (keep.shape ?? []).length === 0 } : undefined,
    logitsName: 'logits',
    logitsType: floatType(logits.type, 'the "logits" output', file),
    cacheType,
    fused,
    cache,
    emptyCacheShape,
    pastAxis,
  };
}
