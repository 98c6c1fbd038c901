/**
 * The forward passes of one loaded model: its ONNX session, the KV cache the passes fill, and the
 * buffers they reuse. `prefill` runs prompt tokens in chunks (splitting off the last token when
 * the graph computes logits for every position), `forward` runs one pass after the cached tokens
 * and returns the last position's logits (converted from fp16 when the graph gives those), timing
 * each stage when a profile is asked for. LocalModel decides what to run; this runs it.
 */
// First: ONNX Runtime must see its telemetry switch before it loads.
import './ortTelemetry';
import type { InferenceSession, Tensor as TensorType } from 'onnxruntime-node';
import { Tensor } from 'onnxruntime-node';
import { halfToFloatArray } from './float16';
import type { GraphSignature } from './graphSignature';
import { KvCache } from './kvCache';

/** Where one forward pass spent its time, in ms. */
export interface ForwardPassTimings {
  readonly tokens: number;
  readonly pastLength: number;
  /** Building the feeds (ids, mask, positions, the cached past tensors). */
  readonly feedsMs: number;
  /** session.run: ONNX Runtime's work plus the binding's copies of inputs and outputs. */
  readonly runMs: number;
  /** Taking the presents as the next past. */
  readonly cacheMs: number;
  /** Taking out the last position's logits (fp16 conversion included). */
  readonly logitsMs: number;
}

/**
 * For graphs computing logits at every position (neither num_logits_to_keep nor the last-position
 * patch), prompts at least this long run as (n-1 tokens) + (last token with logits): fetching a
 * row of logits for every prompt position costs more than one extra pass.
 */
const SPLIT_LAST_TOKEN_FROM = 8;

export class ModelGraph {
  readonly cache: KvCache;
  /** Float32 copy of fp16 logits (float32 logits are used where ONNX Runtime put them). */
  private readonly logitsBuffer: Float32Array;
  private maskBuffer = new BigInt64Array(0);
  private readonly presentNames: string[];

  constructor(
    private readonly session: InferenceSession,
    private readonly signature: GraphSignature,
    vocabSize: number,
    private readonly prefillChunk: number,
    /** The graph computes one row of logits per pass, however many tokens it runs. */
    private readonly lastPositionOnly: boolean,
    private readonly onForwardPass?: (pass: ForwardPassTimings) => void,
  ) {
    this.cache = new KvCache(signature);
    this.logitsBuffer = new Float32Array(vocabSize);
    this.presentNames = signature.cache.map((layer) => layer.presentName);
  }

  /** Runs prompt tokens through the model; returns the last position's logits. */
  async prefill(ids: readonly number[], checkAbort: () => void): Promise<Float32Array> {
    const splitLast = !this.lastPositionOnly && ids.length >= SPLIT_LAST_TOKEN_FROM;
    const body = splitLast ? ids.slice(0, -1) : ids;
    let logits: Float32Array | undefined;
    for (let start = 0; start < body.length; start += this.prefillChunk) {
      const chunk = body.slice(start, start + this.prefillChunk);
      const last = !splitLast && start + this.prefillChunk >= body.length;
      logits = await this.forward(chunk, last, checkAbort);
    }
    if (splitLast) logits = await this.forward(ids.slice(-1), true, checkAbort);
    return logits!;
  }

  /** One forward pass over `tokens` after the cached ones; returns the last position's logits when asked. */
  async forward(tokens: readonly number[], wantLogits: true, checkAbort: () => void): Promise<Float32Array>;
  async forward(tokens: readonly number[], wantLogits: boolean, checkAbort: () => void): Promise<Float32Array | undefined>;
  async forward(tokens: readonly number[], wantLogits: boolean, checkAbort: () => void): Promise<Float32Array | undefined> {
    const outputs = await this.run(tokens, 1, wantLogits, checkAbort);
    const logitsStart = this.onForwardPass ? performance.now() : 0;
    const logits = wantLogits ? this.lastLogits(outputs[this.signature.logitsName]) : undefined;
    if (this.onForwardPass) this.lastTimings = { ...this.lastTimings!, logitsMs: performance.now() - logitsStart };
    if (this.lastTimings) this.onForwardPass?.(this.lastTimings);
    return logits;
  }

  /**
   * One forward pass over `tokens` after the cached ones, returning the logits of every one of
   * them (row i predicts the token after tokens[i]): scoring a text in one pass, not one per token.
   * Rows are views of ONNX Runtime's output (float32) or fresh copies (fp16 graphs).
   */
  async forwardEveryRow(tokens: readonly number[], checkAbort: () => void): Promise<Float32Array[]> {
    const outputs = await this.run(tokens, tokens.length, true, checkAbort);
    const logits = outputs[this.signature.logitsName];
    const vocab = logits.dims[logits.dims.length - 1];
    const rows = logits.dims.length === 3 ? logits.dims[1] : 1;
    if (rows < tokens.length) throw new Error(`the model returned ${rows} rows of logits for ${tokens.length} tokens`);
    const first = rows - tokens.length;
    return tokens.map((_, i) => {
      const row = (logits.data as Float32Array | Uint16Array).subarray((first + i) * vocab, (first + i + 1) * vocab);
      return this.signature.logitsType === 'float16' ? halfToFloatArray(row as Uint16Array, new Float32Array(vocab)) : (row as Float32Array);
    });
  }

  private lastTimings: ForwardPassTimings | undefined;

  /** Runs one pass; `keepRows`: logits rows asked of graphs that can keep only the last ones. */
  private async run(tokens: readonly number[], keepRows: number, wantLogits: boolean, checkAbort: () => void): Promise<Record<string, TensorType>> {
    // session.run blocks this thread for the whole pass. Let the event loop turn first so a
    // cancel message that arrived during the previous pass is seen before starting another.
    await new Promise<void>((resolve) => setImmediate(resolve));
    checkAbort();
    const feedsStart = this.onForwardPass ? performance.now() : 0;
    const past = this.cache.length;
    const total = past + tokens.length;
    const signature = this.signature;
    const feeds: Record<string, TensorType> = {};
    const ids = new BigInt64Array(tokens.length);
    for (let i = 0; i < tokens.length; i++) ids[i] = BigInt(tokens[i]);
    feeds.input_ids = new Tensor('int64', ids, [1, tokens.length]);
    if (signature.hasAttentionMask) {
      if (this.maskBuffer.length < total) this.maskBuffer = new BigInt64Array(Math.max(total, 2 * this.maskBuffer.length)).fill(1n);
      feeds.attention_mask = new Tensor('int64', this.maskBuffer.subarray(0, total), [1, total]);
    }
    if (signature.hasPositionIds) {
      const positions = new BigInt64Array(tokens.length);
      for (let i = 0; i < tokens.length; i++) positions[i] = BigInt(past + i);
      feeds.position_ids = new Tensor('int64', positions, [1, tokens.length]);
    }
    if (signature.hasUseCacheBranch) feeds.use_cache_branch = new Tensor('bool', [past > 0], [1]);
    const keep = signature.numLogitsToKeep;
    if (keep) {
      // 1 also while prefilling without logits: the graph then computes a single row.
    // (The patched graphs of onnxPatch.ts declare it too.)
      const dims = keep.scalar ? [] : [1];
      feeds[keep.name] = keep.type === 'int64' ? new Tensor('int64', BigInt64Array.of(BigInt(keepRows)), dims) : new Tensor('int32', Int32Array.of(keepRows), dims);
    }
    for (const { pastName } of signature.cache) feeds[pastName] = this.cache.past(pastName);
    // Logits only when asked: fewer bytes for the binding to copy out. (ONNX Runtime still runs the
    // LM head for every row it has; the last-position patch is what makes that one row.)
    const fetches = wantLogits || keep ? [signature.logitsName, ...this.presentNames] : this.presentNames;
    const runStart = this.onForwardPass ? performance.now() : 0;
    const outputs = await this.session.run(feeds, fetches);
    const runEnd = this.onForwardPass ? performance.now() : 0;
    this.cache.update(outputs, tokens);
    const cacheEnd = this.onForwardPass ? performance.now() : 0;
    this.lastTimings = this.onForwardPass ? { tokens: tokens.length, pastLength: past, feedsMs: runStart - feedsStart, runMs: runEnd - runStart, cacheMs: cacheEnd - runEnd, logitsMs: 0 } : undefined;
    return outputs;
  }

  /** The last position's logits of a [batch, rows, vocab] output. */
  private lastLogits(logits: TensorType): Float32Array {
    const vocab = logits.dims[logits.dims.length - 1];
    const rows = logits.dims.length === 3 ? logits.dims[1] : 1;
    if (this.signature.logitsType === 'float16') {
      const out = vocab === this.logitsBuffer.length ? this.logitsBuffer : new Float32Array(vocab);
      return halfToFloatArray((logits.data as Uint16Array).subarray((rows - 1) * vocab, rows * vocab), out);
    }
    // A view, not a copy: ONNX Runtime hands over a new array every pass, read only by the caller.
    return (logits.data as Float32Array).subarray((rows - 1) * vocab, rows * vocab);
  }

  /** Drops the cache and releases the session; `endProfiling` first writes ONNX Runtime's profile. */
  async release(endProfiling: boolean): Promise<void> {
    this.cache.clear();
    if (endProfiling) await this.session.endProfiling();
    await this.session.release();
  }
}
