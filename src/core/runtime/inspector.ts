/**
 * The inspection session of a loaded model: its own ONNX Runtime session over the inspection graph
 * (inspectGraph.ts, built in memory from the same file: the weights stay where they are), created
 * on first use. One pass runs the whole prompt without a cache and returns, for one query position,
 * every layer's attention row, hidden state and logit lens, and the model's logits.
 */
// First: ONNX Runtime must see its telemetry switch before it loads.
import './ortTelemetry';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { halfToFloatArray } from './float16';
import type { GraphSignature } from './graphSignature';
import { QUERY_POSITION_INPUT, buildInspectionGraph, type InspectionGraph } from './inspectGraph';
import { patchLogitsToLastPosition } from './onnxPatch';
import { EmbeddingIndex, readEmbeddingMatrix } from './embeddings';

export interface InspectionRun {
  readonly tokens: number;
  readonly position: number;
  readonly heads: number;
  /** Per layer: heads rows of `tokens` weights, head-major. Empty when the export hides attention. */
  readonly attention: readonly Float32Array[];
  /** Per layer: the hidden state at the query position. */
  readonly hidden: readonly Float32Array[];
  /** Per layer: the logit lens at the query position (the last equals the model's logits there). */
  readonly lens: readonly Float32Array[];
  /** The model's own logits for the last position. */
  readonly logits: Float32Array;
  readonly attentionUnavailable?: string;
  readonly lensUnavailable?: string;
}

export class ModelInspector {
  private embeddings: Promise<EmbeddingIndex> | undefined;

  private constructor(
    private readonly session: InferenceSession,
    private readonly graph: Omit<InspectionGraph, 'bytes'>,
    private readonly signature: GraphSignature,
    private readonly onnxPath: string,
  ) {}

  get attentionUnavailable(): string | undefined {
    return this.graph.attentionUnavailable;
  }

  get lensUnavailable(): string | undefined {
    return this.graph.lensUnavailable;
  }

  static async create(onnxPath: string, signature: GraphSignature, numLayers: number, threads: number): Promise<ModelInspector> {
    const original = new Uint8Array(await readFile(onnxPath));
    const lastPosition = patchLogitsToLastPosition(original);
    let lastError: unknown;
    for (const base of lastPosition ? [lastPosition, original] : [original]) {
      const graph = buildInspectionGraph(base, numLayers);
      try {
        const session = await InferenceSession.create(graph.bytes, {
          intraOpNumThreads: threads,
          interOpNumThreads: 1,
          executionMode: 'sequential',
          graphOptimizationLevel: 'all',
          logSeverityLevel: 4,
          extra: { session: { model_external_initializers_file_folder_path: dirname(onnxPath) } },
        });
        const { bytes: _bytes, ...outputs } = graph;
        return new ModelInspector(session, outputs, signature, onnxPath);
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError;
  }

  /** The embedding matrix, read from the file again and dequantized on first use (the file's bytes are not kept meanwhile). */
  embeddingIndex(): Promise<EmbeddingIndex> {
    this.embeddings ??= readFile(this.onnxPath).then((bytes) => readEmbeddingMatrix(new Uint8Array(bytes), dirname(this.onnxPath))).then((matrix) => new EmbeddingIndex(matrix));
    this.embeddings.catch(() => (this.embeddings = undefined));
    return this.embeddings;
  }

  /** One pass over `ids` (no cache); attention, hidden states and lens at `position`. */
  async run(ids: readonly number[], position: number): Promise<InspectionRun> {
    if (position < 0 || position >= ids.length) throw new RangeError(`position ${position} is outside the ${ids.length} tokens`);
    const signature = this.signature;
    const n = ids.length;
    const feeds: Record<string, Tensor> = {};
    feeds.input_ids = new Tensor('int64', BigInt64Array.from(ids, (id) => BigInt(id)), [1, n]);
    if (signature.hasAttentionMask) feeds.attention_mask = new Tensor('int64', new BigInt64Array(n).fill(1n), [1, n]);
    if (signature.hasPositionIds) feeds.position_ids = new Tensor('int64', BigInt64Array.from({ length: n }, (_, i) => BigInt(i)), [1, n]);
    if (signature.hasUseCacheBranch) feeds.use_cache_branch = new Tensor('bool', [false], [1]);
    const keep = signature.numLogitsToKeep;
    if (keep) feeds[keep.name] = keep.type === 'int64' ? new Tensor('int64', BigInt64Array.of(1n), keep.scalar ? [] : [1]) : new Tensor('int32', Int32Array.of(1), keep.scalar ? [] : [1]);
    const empty = signature.cacheType === 'float16' ? new Uint16Array(0) : new Float32Array(0);
    for (const { pastName } of signature.cache) feeds[pastName] = new Tensor(signature.cacheType, empty, [...signature.emptyCacheShape]);
    feeds[QUERY_POSITION_INPUT] = new Tensor('int64', BigInt64Array.of(BigInt(position)), [1]);
    const { attentionOutputs, hiddenOutputs, lensOutputs } = this.graph;
    const outputs = await this.session.run(feeds, [signature.logitsName, ...attentionOutputs, ...hiddenOutputs, ...lensOutputs]);
    const logitsTensor = outputs[signature.logitsName];
    const vocab = logitsTensor.dims[logitsTensor.dims.length - 1];
    const rows = logitsTensor.dims.length === 3 ? logitsTensor.dims[1] : 1;
    const logits =
      signature.logitsType === 'float16'
        ? halfToFloatArray((logitsTensor.data as Uint16Array).subarray((rows - 1) * vocab, rows * vocab), new Float32Array(vocab))
        : Float32Array.from((logitsTensor.data as Float32Array).subarray((rows - 1) * vocab, rows * vocab));
    const attention = attentionOutputs.map((name) => outputs[name].data as Float32Array);
    const heads = attentionOutputs.length > 0 ? outputs[attentionOutputs[0]].dims[1] : 0;
    return {
      tokens: n,
      position,
      heads,
      attention,
      hidden: hiddenOutputs.map((name) => outputs[name].data as Float32Array),
      lens: lensOutputs.map((name) => outputs[name].data as Float32Array),
      logits,
      attentionUnavailable: this.graph.attentionUnavailable,
      lensUnavailable: this.graph.lensUnavailable,
    };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
