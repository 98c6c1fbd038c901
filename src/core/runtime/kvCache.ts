/**
 * The KV cache of one sequence: the `present.*` tensors of the last forward pass (fed back as
 * `past_key_values.*`) and the token ids they cover. Reuse across requests keeps the longest
 * common prefix, slicing the tensors along their past axis.
 */
// First: ONNX Runtime must see its telemetry switch before it loads.
import './ortTelemetry';
import { Tensor } from 'onnxruntime-node';
import type { GraphSignature } from './graphSignature';

type CacheData = Float32Array | Uint16Array;

export class KvCache {
  /** Token ids whose keys/values the tensors hold, in order. */
  private tokens: number[] = [];
  private tensors: Map<string, Tensor> | undefined;
  private readonly empty: Map<string, Tensor>;

  constructor(private readonly signature: GraphSignature) {
    this.empty = new Map(
      signature.cache.map(({ pastName }) => [
        pastName,
        new Tensor(signature.cacheType, signature.cacheType === 'float16' ? new Uint16Array(0) : new Float32Array(0), [...signature.emptyCacheShape]),
      ]),
    );
  }

  get length(): number {
    return this.tokens.length;
  }

  get ids(): readonly number[] {
    return this.tokens;
  }

  /** Past tensor to feed for a cache input (empty tensors when nothing is cached). */
  past(pastName: string): Tensor {
    return this.tensors?.get(pastName) ?? this.empty.get(pastName)!;
  }

  /** Takes the outputs of a forward pass over `newTokens` as the new cache. */
  update(outputs: Readonly<Record<string, Tensor>>, newTokens: readonly number[]): void {
    const next = new Map<string, Tensor>();
    for (const { pastName, presentName } of this.signature.cache) {
      const present = outputs[presentName];
      if (!present) throw new Error(`the model returned no ${presentName}`);
      next.set(pastName, present);
    }
    this.tensors = next;
    for (const id of newTokens) this.tokens.push(id);
  }

  clear(): void {
    this.tokens = [];
    this.tensors = undefined;
  }

  /** Keeps only the first `length` positions (no-op when already that short). */
  truncate(length: number): void {
    if (length >= this.tokens.length) return;
    if (length <= 0 || !this.tensors) {
      this.clear();
      return;
    }
    const axis = this.signature.pastAxis;
    const next = new Map<string, Tensor>();
    for (const [name, tensor] of this.tensors) {
      const dims = tensor.dims;
      const past = dims[axis];
      const outer = dims.slice(0, axis).reduce((a, b) => a * b, 1);
      const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
      const source = tensor.data as CacheData;
      const target = source instanceof Uint16Array ? new Uint16Array(outer * length * inner) : new Float32Array(outer * length * inner);
      for (let o = 0; o < outer; o++) {
        target.set(source.subarray(o * past * inner, o * past * inner + length * inner), o * length * inner);
      }
      const newDims = [...dims];
      newDims[axis] = length;
      next.set(name, new Tensor(tensor.type as 'float32' | 'float16', target, newDims));
    }
    this.tensors = next;
    this.tokens.length = length;
  }
}
