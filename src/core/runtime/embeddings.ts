/**
 * The token embedding matrix of an ONNX decoder, read from its initializers (inside the file or in
 * its external .onnx_data) and dequantized to float32 the way the graph does it: float32, float16,
 * int8/uint8 behind a DequantizeLinear (per tensor or per row), or 4-bit GatherBlockQuantized.
 * And the nearest tokens of a vector by cosine similarity, one pass over the matrix with the row
 * norms computed once.
 */
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { halfToFloat } from './float16';
import { parseGraph, type GraphNode, type ParsedGraph } from './inspectGraph';
import { fields, text } from './onnxProtobuf';

export type EmbeddingStorage = 'float32' | 'float16' | 'int8' | 'uint8' | '4-bit';

export interface EmbeddingMatrix {
  readonly rows: number;
  readonly dims: number;
  /** rows x dims, row-major, dequantized. */
  readonly data: Float32Array;
  /** How the export stores it. */
  readonly storage: EmbeddingStorage;
}

interface RawTensor {
  readonly dims: number[];
  readonly dataType: number;
  readonly bytes: Uint8Array;
}

const FLOAT = 1;
const UINT8 = 2;
const INT8 = 3;
const FLOAT16 = 10;

async function readTensor(model: Uint8Array, graph: ParsedGraph, name: string, modelDir: string): Promise<RawTensor> {
  const field = graph.initializers.get(name);
  if (!field) throw new Error(`the embedding input ${name} is not an initializer`);
  const dims: number[] = [];
  let dataType = 0;
  let raw: Uint8Array | undefined;
  let floatData: Uint8Array | undefined;
  const external = new Map<string, string>();
  for (const f of fields(model, field.valueStart, field.end)) {
    if (f.field === 1 && f.wireType === 0) dims.push(f.varint ?? 0);
    else if (f.field === 1 && f.wireType === 2) for (const d of packedVarints(model, f.valueStart, f.end)) dims.push(d);
    else if (f.field === 2 && f.wireType === 0) dataType = f.varint ?? 0;
    else if (f.field === 9 && f.wireType === 2) raw = model.subarray(f.valueStart, f.end);
    else if (f.field === 4 && f.wireType === 2) floatData = model.subarray(f.valueStart, f.end);
    else if (f.field === 13 && f.wireType === 2) {
      let key = '';
      let value = '';
      for (const g of fields(model, f.valueStart, f.end)) {
        if (g.field === 1 && g.wireType === 2) key = text(model, g);
        else if (g.field === 2 && g.wireType === 2) value = text(model, g);
      }
      external.set(key, value);
    }
  }
  if (external.has('location')) {
    const offset = Number(external.get('offset') ?? 0);
    const length = Number(external.get('length') ?? 0);
    const handle = await open(join(modelDir, external.get('location')!), 'r');
    try {
      const buffer = new Uint8Array(length);
      await handle.read(buffer, 0, length, offset);
      raw = buffer;
    } finally {
      await handle.close();
    }
  }
  const bytes = raw ?? floatData;
  if (!bytes) throw new Error(`${name} holds no data this reader understands`);
  // An aligned copy, so typed views can be made on it.
  return { dims, dataType, bytes: Uint8Array.from(bytes) };
}

function* packedVarints(bytes: Uint8Array, start: number, end: number): Generator<number> {
  let value = 0;
  let multiplier = 1;
  for (let i = start; i < end; i++) {
    value += (bytes[i] & 0x7f) * multiplier;
    if ((bytes[i] & 0x80) === 0) {
      yield value;
      value = 0;
      multiplier = 1;
    } else multiplier *= 128;
  }
}

function toFloat(tensor: RawTensor): Float32Array {
  if (tensor.dataType === FLOAT) return new Float32Array(tensor.bytes.buffer, 0, tensor.bytes.length / 4);
  if (tensor.dataType === FLOAT16) {
    const half = new Uint16Array(tensor.bytes.buffer, 0, tensor.bytes.length / 2);
    const out = new Float32Array(half.length);
    for (let i = 0; i < half.length; i++) out[i] = halfToFloat(half[i]);
    return out;
  }
  throw new Error(`tensor data type ${tensor.dataType} is not a float type`);
}

function intAttribute(model: Uint8Array, node: GraphNode, name: string): number | undefined {
  for (const f of fields(model, node.field.valueStart, node.field.end)) {
    if (f.field !== 5 || f.wireType !== 2) continue;
    let attributeName = '';
    let value: number | undefined;
    for (const g of fields(model, f.valueStart, f.end)) {
      if (g.field === 1 && g.wireType === 2) attributeName = text(model, g);
      else if (g.field === 3 && g.wireType === 0) value = g.varint;
    }
    // Negative ints arrive as 64-bit two's complement varints.
    if (attributeName === name && value !== undefined) return value >= 2 ** 63 ? value - 2 ** 64 : value;
  }
  return undefined;
}

/** Reads and dequantizes the matrix the graph's embedding lookup (a gather of input_ids) reads. */
export async function readEmbeddingMatrix(model: Uint8Array, modelDir: string): Promise<EmbeddingMatrix> {
  let graph: ParsedGraph | undefined;
  for (const f of fields(model)) if (f.field === 7 && f.wireType === 2) graph = parseGraph(model, f.valueStart, f.end);
  if (!graph) throw new Error('no graph in the model file');
  const lookup = graph.nodes.find((node) => node.inputs[1] === 'input_ids' && (node.opType === 'Gather' || node.opType === 'GatherBlockQuantized'));
  if (!lookup) throw new Error('the graph has no embedding lookup (a Gather of input_ids)');
  if (lookup.opType === 'GatherBlockQuantized') {
    const data = await readTensor(model, graph, lookup.inputs[0], modelDir);
    const scales = toFloat(await readTensor(model, graph, lookup.inputs[2], modelDir));
    const zeroPoints = lookup.inputs[3] ? (await readTensor(model, graph, lookup.inputs[3], modelDir)).bytes : undefined;
    const blockSize = intAttribute(model, lookup, 'block_size') ?? 128;
    const bits = intAttribute(model, lookup, 'bits') ?? 4;
    if (bits !== 4 || data.dataType !== UINT8 || data.dims.length !== 2) throw new Error(`GatherBlockQuantized with ${bits} bits over ${data.dims.length}-d type-${data.dataType} data is not supported`);
    const rows = data.dims[0];
    const dims = data.dims[1] * 2;
    const blocksPerRow = Math.ceil(dims / blockSize);
    const out = new Float32Array(rows * dims);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < dims; c++) {
        const byte = data.bytes[r * (dims / 2) + (c >> 1)];
        const q = c & 1 ? byte >> 4 : byte & 15;
        const block = r * blocksPerRow + Math.floor(c / blockSize);
        const zpByte = zeroPoints ? zeroPoints[block >> 1] : 0x88;
        const zp = block & 1 ? zpByte >> 4 : zpByte & 15;
        out[r * dims + c] = (q - zp) * scales[block];
      }
    }
    return { rows, dims, data: out, storage: '4-bit' };
  }
  const source = lookup.inputs[0];
  if (graph.initializers.has(source)) {
    const tensor = await readTensor(model, graph, source, modelDir);
    if (tensor.dims.length !== 2) throw new Error(`the embedding ${source} has ${tensor.dims.length} dimensions`);
    return { rows: tensor.dims[0], dims: tensor.dims[1], data: toFloat(tensor), storage: tensor.dataType === FLOAT16 ? 'float16' : 'float32' };
  }
  const dequantize = graph.nodes.find((node) => node.outputs.includes(source));
  if (dequantize?.opType === 'DequantizeLinear') {
    const data = await readTensor(model, graph, dequantize.inputs[0], modelDir);
    const scales = toFloat(await readTensor(model, graph, dequantize.inputs[1], modelDir));
    const zeroTensor = dequantize.inputs[2] ? await readTensor(model, graph, dequantize.inputs[2], modelDir) : undefined;
    if (data.dims.length !== 2 || (data.dataType !== INT8 && data.dataType !== UINT8)) throw new Error('DequantizeLinear of a tensor that is not 2-d int8/uint8');
    const [rows, dims] = data.dims;
    const signed = data.dataType === INT8;
    const values = signed ? new Int8Array(data.bytes.buffer, 0, rows * dims) : data.bytes;
    const zeros = zeroTensor ? (signed ? new Int8Array(zeroTensor.bytes.buffer, 0, zeroTensor.bytes.length) : zeroTensor.bytes) : undefined;
    const axis = (intAttribute(model, dequantize, 'axis') ?? 1) < 0 ? 2 + (intAttribute(model, dequantize, 'axis') ?? 1) : (intAttribute(model, dequantize, 'axis') ?? 1);
    const out = new Float32Array(rows * dims);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < dims; c++) {
        const q = scales.length === 1 ? 0 : axis === 0 ? r : c;
        out[r * dims + c] = (values[r * dims + c] - (zeros ? zeros[zeros.length === 1 ? 0 : q] : 0)) * scales[q];
      }
    }
    return { rows, dims, data: out, storage: signed ? 'int8' : 'uint8' };
  }
  throw new Error(`the embedding lookup reads ${source}, computed by ${dequantize?.opType ?? 'nothing'}: not a stored matrix this reader understands`);
}

export interface Neighbour {
  readonly id: number;
  readonly cosine: number;
}

/** Cosine nearest neighbours over an embedding matrix (row norms computed once). */
export class EmbeddingIndex {
  private readonly norms: Float32Array;

  constructor(readonly matrix: EmbeddingMatrix) {
    const { rows, dims, data } = matrix;
    this.norms = new Float32Array(rows);
    for (let r = 0; r < rows; r++) {
      let sum = 0;
      for (let c = 0, base = r * dims; c < dims; c++) sum += data[base + c] * data[base + c];
      this.norms[r] = Math.sqrt(sum);
    }
  }

  vector(id: number): Float32Array {
    if (id < 0 || id >= this.matrix.rows) throw new RangeError(`token id ${id} is outside the embedding's ${this.matrix.rows} rows`);
    return this.matrix.data.subarray(id * this.matrix.dims, (id + 1) * this.matrix.dims);
  }

  norm(id: number): number {
    return this.norms[id];
  }

  /** The `top` rows most similar to `vector` by cosine, best first (rows in `exclude` and zero rows skipped). */
  nearest(vector: Float32Array, top: number, exclude: ReadonlySet<number> = new Set()): Neighbour[] {
    const { rows, dims, data } = this.matrix;
    let queryNorm = 0;
    for (let c = 0; c < dims; c++) queryNorm += vector[c] * vector[c];
    queryNorm = Math.sqrt(queryNorm);
    if (queryNorm === 0 || top <= 0) return [];
    // A small sorted list of the best so far: top is tens, rows are many.
    const best: Neighbour[] = [];
    // Four partial sums: independent additions the CPU overlaps (about 2x over one running sum here).
    const tail = dims - (dims % 4);
    for (let r = 0; r < rows; r++) {
      if (this.norms[r] === 0 || exclude.has(r)) continue;
      const base = r * dims;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let c = 0; c < tail; c += 4) {
        s0 += vector[c] * data[base + c];
        s1 += vector[c + 1] * data[base + c + 1];
        s2 += vector[c + 2] * data[base + c + 2];
        s3 += vector[c + 3] * data[base + c + 3];
      }
      for (let c = tail; c < dims; c++) s0 += vector[c] * data[base + c];
      const cosine = (s0 + s1 + s2 + s3) / (queryNorm * this.norms[r]);
      if (best.length === top && cosine <= best[best.length - 1].cosine) continue;
      let at = best.length;
      while (at > 0 && best[at - 1].cosine < cosine) at--;
      best.splice(at, 0, { id: r, cosine });
      if (best.length > top) best.pop();
    }
    return best;
  }
}
