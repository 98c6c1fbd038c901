/**
 * A small GGUF v3 writer (the llama.cpp / ggml model format) and the block formats it stores:
 * F32, F16, Q8_0 and Q4_0. Written to the spec in ggml's docs/gguf.md: header (magic, version,
 * tensor count, metadata count), typed key-value metadata, tensor infos (name, dims with ne[0]
 * first, type, offset relative to the data section), zero padding to `general.alignment`, then each
 * tensor's bytes at an aligned offset. Little-endian.
 *
 * `@huggingface/gguf` (devDependency) reads these files back in the unit tests; its own
 * serializer only rewrites the metadata of an existing file (it pads right after the metadata and
 * writes no tensor infos or data), so the writing is done here.
 *
 * Block formats (ggml-common.h):
 * - Q4_0: 32 weights per 18-byte block: fp16 scale d, then 16 bytes whose low nibbles are weights
 *   0..15 and high nibbles weights 16..31; weight = (nibble - 8) * d.
 * - Q8_0: 32 weights per 34-byte block: fp16 scale d, then 32 int8; weight = q * d.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { GGMLQuantizationType, GGUFValueType } from '@huggingface/gguf';
import { halfToFloat } from '../../src/core/runtime/float16';
import { toHalf } from '../test-models/decoder';

export type GgmlTypeName = 'F32' | 'F16' | 'Q8_0' | 'Q4_0';

interface BlockFormat {
  readonly id: GGMLQuantizationType;
  /** Weights per block. */
  readonly blockSize: number;
  /** Bytes per block. */
  readonly blockBytes: number;
}

export const GGML_TYPES: Readonly<Record<GgmlTypeName, BlockFormat>> = {
  F32: { id: GGMLQuantizationType.F32, blockSize: 1, blockBytes: 4 },
  F16: { id: GGMLQuantizationType.F16, blockSize: 1, blockBytes: 2 },
  Q8_0: { id: GGMLQuantizationType.Q8_0, blockSize: 32, blockBytes: 34 },
  Q4_0: { id: GGMLQuantizationType.Q4_0, blockSize: 32, blockBytes: 18 },
};

export const QK = 32;

/** `general.file_type` for a file whose big matrices are of this type (llama_ftype). */
export const FILE_TYPE: Readonly<Record<GgmlTypeName, number>> = { F32: 0, F16: 1, Q4_0: 2, Q8_0: 7 };

export type GgufValue =
  | { readonly type: 'uint32' | 'int32' | 'float32' | 'uint64'; readonly value: number }
  | { readonly type: 'bool'; readonly value: boolean }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'array'; readonly itemType: 'string'; readonly value: readonly string[] }
  | { readonly type: 'array'; readonly itemType: 'int32' | 'uint32' | 'float32'; readonly value: readonly number[] | Int32Array | Float32Array };

export const gguf = {
  u32: (value: number): GgufValue => ({ type: 'uint32', value }),
  i32: (value: number): GgufValue => ({ type: 'int32', value }),
  f32: (value: number): GgufValue => ({ type: 'float32', value }),
  bool: (value: boolean): GgufValue => ({ type: 'bool', value }),
  str: (value: string): GgufValue => ({ type: 'string', value }),
  strings: (value: readonly string[]): GgufValue => ({ type: 'array', itemType: 'string', value }),
  i32s: (value: readonly number[] | Int32Array): GgufValue => ({ type: 'array', itemType: 'int32', value }),
};

export interface GgufTensor {
  /** At most 64 bytes (spec). */
  readonly name: string;
  /** ggml order: dims[0] is the row length (the contiguous axis), as in the tensor info. */
  readonly dims: readonly number[];
  readonly type: GgmlTypeName;
  /** The encoded bytes, or a function that makes them when the tensor is written (big models). */
  readonly data: Uint8Array | (() => Uint8Array);
}

/** Bytes a tensor of these dims takes in a block format. */
export function tensorBytes(type: GgmlTypeName, dims: readonly number[]): number {
  const format = GGML_TYPES[type];
  if (dims[0] % format.blockSize !== 0) throw new RangeError(`${type} rows must hold a multiple of ${format.blockSize} values, got ${dims[0]}`);
  return (dims.reduce((a, b) => a * b, 1) / format.blockSize) * format.blockBytes;
}

// ---------------------------------------------------------------------------------------------
// Serialization

class ByteSink {
  private chunks: Uint8Array[] = [];
  length = 0;

  push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.length += bytes.length;
  }

  private scalar(size: number, write: (view: DataView) => void): void {
    const bytes = new Uint8Array(size);
    write(new DataView(bytes.buffer));
    this.push(bytes);
  }

  u32(value: number): void {
    this.scalar(4, (view) => view.setUint32(0, value, true));
  }

  i32(value: number): void {
    this.scalar(4, (view) => view.setInt32(0, value, true));
  }

  u64(value: number | bigint): void {
    this.scalar(8, (view) => view.setBigUint64(0, BigInt(value), true));
  }

  f32(value: number): void {
    this.scalar(4, (view) => view.setFloat32(0, value, true));
  }

  string(value: string): void {
    const bytes = new TextEncoder().encode(value);
    this.u64(bytes.length);
    this.push(bytes);
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }
}

const VALUE_TYPES = {
  uint32: GGUFValueType.UINT32,
  int32: GGUFValueType.INT32,
  float32: GGUFValueType.FLOAT32,
  uint64: GGUFValueType.UINT64,
  bool: GGUFValueType.BOOL,
  string: GGUFValueType.STRING,
  array: GGUFValueType.ARRAY,
} as const;

function writeScalar(sink: ByteSink, type: 'uint32' | 'int32' | 'float32' | 'uint64', value: number): void {
  if (type === 'float32') return sink.f32(value);
  if (!Number.isInteger(value)) throw new TypeError(`${type} metadata value must be an integer, got ${value}`);
  if (type === 'uint32') {
    if (value < 0 || value > 0xffffffff) throw new RangeError(`uint32 out of range: ${value}`);
    return sink.u32(value);
  }
  if (type === 'int32') return sink.i32(value);
  return sink.u64(value);
}

function writeValue(sink: ByteSink, value: GgufValue): void {
  switch (value.type) {
    case 'bool':
      sink.push(Uint8Array.of(value.value ? 1 : 0));
      return;
    case 'string':
      sink.string(value.value);
      return;
    case 'array':
      sink.u32(VALUE_TYPES[value.itemType]);
      sink.u64(value.value.length);
      if (value.itemType === 'string') for (const item of value.value as readonly string[]) sink.string(item);
      else for (const item of value.value as readonly number[]) writeScalar(sink, value.itemType, item);
      return;
    default:
      writeScalar(sink, value.type, value.value);
  }
}

const KEY = /^[a-z0-9_]+(\.[a-z0-9_]+)*$/;

/** Header and metadata bytes (no padding): what `serializeGgufMetadata` of @huggingface/gguf writes before its padding. */
export function metadataBytes(metadata: Readonly<Record<string, GgufValue>>, tensorCount: number): Uint8Array {
  const sink = new ByteSink();
  sink.push(new TextEncoder().encode('GGUF'));
  sink.u32(3);
  sink.u64(tensorCount);
  const entries = Object.entries(metadata);
  sink.u64(entries.length);
  for (const [key, value] of entries) {
    if (!KEY.test(key) || key.length > 65535) throw new RangeError(`GGUF metadata key "${key}" must be dot-separated lower_snake_case ASCII`);
    sink.string(key);
    sink.u32(VALUE_TYPES[value.type]);
    writeValue(sink, value);
  }
  return sink.bytes();
}

const align = (offset: number, alignment: number): number => offset + ((alignment - (offset % alignment)) % alignment);

/**
 * Writes a GGUF file; returns its size in bytes. `general.alignment` in the metadata (default 32)
 * sets the alignment of the tensor data.
 */
export function writeGguf(path: string, metadata: Readonly<Record<string, GgufValue>>, tensors: readonly GgufTensor[]): number {
  const alignmentValue = metadata['general.alignment'];
  const alignment = alignmentValue && alignmentValue.type === 'uint32' ? alignmentValue.value : 32;
  if (alignment <= 0 || alignment % 8 !== 0) throw new RangeError(`general.alignment must be a multiple of 8, got ${alignment}`);
  const names = new Set<string>();
  const infos = new ByteSink();
  infos.push(metadataBytes(metadata, tensors.length));
  let dataOffset = 0;
  const offsets: number[] = [];
  for (const tensor of tensors) {
    if (new TextEncoder().encode(tensor.name).length > 64) throw new RangeError(`GGUF tensor name "${tensor.name}" is longer than 64 bytes`);
    if (names.has(tensor.name)) throw new RangeError(`GGUF tensor "${tensor.name}" is written twice`);
    names.add(tensor.name);
    if (tensor.dims.length < 1 || tensor.dims.length > 4 || tensor.dims.some((dim) => !Number.isInteger(dim) || dim <= 0)) {
      throw new RangeError(`GGUF tensor "${tensor.name}" has dims [${tensor.dims.join(', ')}]: 1 to 4 positive integers`);
    }
    infos.string(tensor.name);
    infos.u32(tensor.dims.length);
    for (const dim of tensor.dims) infos.u64(dim);
    infos.u32(GGML_TYPES[tensor.type].id);
    dataOffset = align(dataOffset, alignment);
    offsets.push(dataOffset);
    infos.u64(dataOffset);
    dataOffset += tensorBytes(tensor.type, tensor.dims);
  }
  const header = infos.bytes();
  const dataStart = align(header.length, alignment);
  const fd = openSync(path, 'w');
  const writeAll = (bytes: Uint8Array) => {
    for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, Math.min(bytes.length - done, 1 << 26));
  };
  try {
    writeAll(header);
    writeAll(new Uint8Array(dataStart - header.length));
    let position = 0;
    tensors.forEach((tensor, i) => {
      if (offsets[i] > position) writeAll(new Uint8Array(offsets[i] - position));
      const bytes = typeof tensor.data === 'function' ? tensor.data() : tensor.data;
      const expected = tensorBytes(tensor.type, tensor.dims);
      if (bytes.length !== expected) throw new RangeError(`GGUF tensor "${tensor.name}": ${bytes.length} bytes for ${tensor.type} [${tensor.dims.join(', ')}], expected ${expected}`);
      writeAll(bytes);
      position = offsets[i] + bytes.length;
    });
    return dataStart + position;
  } finally {
    closeSync(fd);
  }
}

// ---------------------------------------------------------------------------------------------
// Block formats

/** The value an fp16 scale stores, as a number (what ggml computes with). */
export const fp16Value = (value: number): number => halfToFloat(toHalf(value));

export function encodeF32(values: Float32Array): Uint8Array {
  return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
}

export function encodeF16(values: Float32Array): Uint8Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = toHalf(values[i]);
  return new Uint8Array(out.buffer);
}

/** Q8_0 of row-major values (length a multiple of 32): per block d = max|x| / 127. */
export function encodeQ8_0(values: Float32Array): Uint8Array {
  if (values.length % QK !== 0) throw new RangeError(`Q8_0 needs a multiple of ${QK} values, got ${values.length}`);
  const out = new Uint8Array((values.length / QK) * 34);
  const view = new DataView(out.buffer);
  for (let b = 0; b < values.length / QK; b++) {
    let maxAbs = 0;
    for (let j = 0; j < QK; j++) maxAbs = Math.max(maxAbs, Math.abs(values[b * QK + j]));
    const half = toHalf(maxAbs / 127);
    const d = halfToFloat(half);
    view.setUint16(b * 34, half, true);
    for (let j = 0; j < QK; j++) view.setInt8(b * 34 + 2 + j, d === 0 ? 0 : Math.max(-127, Math.min(127, Math.round(values[b * QK + j] / d))));
  }
  return out;
}

/** Q4_0 of row-major values with the same rule as the ONNX test models' 4-bit weights: d = max|x| / 7, q = round(x / d) + 8. */
export function encodeQ4_0(values: Float32Array): Uint8Array {
  if (values.length % QK !== 0) throw new RangeError(`Q4_0 needs a multiple of ${QK} values, got ${values.length}`);
  const out = new Uint8Array((values.length / QK) * 18);
  const view = new DataView(out.buffer);
  for (let b = 0; b < values.length / QK; b++) {
    let maxAbs = 0;
    for (let j = 0; j < QK; j++) maxAbs = Math.max(maxAbs, Math.abs(values[b * QK + j]));
    const half = toHalf(maxAbs / 7);
    const d = halfToFloat(half) || 1;
    view.setUint16(b * 18, half, true);
    const nibble = (x: number) => Math.max(0, Math.min(15, Math.round(x / d) + 8));
    for (let j = 0; j < QK / 2; j++) out[b * 18 + 2 + j] = nibble(values[b * QK + j]) | (nibble(values[b * QK + j + QK / 2]) << 4);
  }
  return out;
}

export interface Q4Repack {
  readonly bytes: Uint8Array;
  /** Scales that fp16 cannot hold exactly (then the GGUF weights differ from the ONNX ones by that rounding). */
  readonly inexactScales: number;
  readonly maxScaleRelativeError: number;
}

/**
 * The blocks of a com.microsoft MatMulNBits weight (4 bits, block 32, no zero points so zero point
 * 8, scales float32) as Q4_0: the same nibbles and scales, in Q4_0's nibble order and with fp16
 * scales. MatMulNBits holds W^T ([N, K/32, 16] bytes, element k of a block in the low nibble of
 * byte k/2 when k is even), which is ggml's [K, N] row-major weight with rows of K: block for block
 * the same weights when every scale is fp16-exact.
 */
export function q4_0FromMatMulNBits(packed: Uint8Array, scales: Float32Array, K: number, N: number): Q4Repack {
  if (K % QK !== 0) throw new RangeError(`Q4_0 rows must be a multiple of ${QK}, got K=${K}`);
  const blocks = K / QK;
  if (packed.length !== N * blocks * 16 || scales.length !== N * blocks) throw new RangeError(`MatMulNBits weight ${N}x${K}: expected ${N * blocks * 16} bytes and ${N * blocks} scales, got ${packed.length} and ${scales.length}`);
  const out = new Uint8Array(N * blocks * 18);
  const view = new DataView(out.buffer);
  let inexactScales = 0;
  let maxScaleRelativeError = 0;
  for (let block = 0; block < N * blocks; block++) {
    const scale = scales[block];
    const half = toHalf(scale);
    const stored = halfToFloat(half);
    if (stored !== scale) {
      inexactScales++;
      maxScaleRelativeError = Math.max(maxScaleRelativeError, Math.abs(stored - scale) / Math.abs(scale));
    }
    view.setUint16(block * 18, half, true);
    const source = block * 16;
    const target = block * 18 + 2;
    for (let j = 0; j < 16; j++) {
      // Element j (byte j/2 of the source) goes low, element j+16 (byte 8 + j/2) high.
      const low = j & 1 ? packed[source + (j >> 1)] >> 4 : packed[source + (j >> 1)] & 15;
      const k = j + 16;
      const high = k & 1 ? packed[source + (k >> 1)] >> 4 : packed[source + (k >> 1)] & 15;
      out[target + j] = low | (high << 4);
    }
  }
  return { bytes: out, inexactScales, maxScaleRelativeError };
}

/** Decodes a tensor's bytes back to floats (tests compare what llama.cpp will compute with). */
export function decodeGgml(type: GgmlTypeName, bytes: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (type) {
    case 'F32':
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
      return out;
    case 'F16':
      for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
      return out;
    case 'Q8_0':
      for (let b = 0; b < count / QK; b++) {
        const d = halfToFloat(view.getUint16(b * 34, true));
        for (let j = 0; j < QK; j++) out[b * QK + j] = view.getInt8(b * 34 + 2 + j) * d;
      }
      return out;
    case 'Q4_0':
      for (let b = 0; b < count / QK; b++) {
        const d = halfToFloat(view.getUint16(b * 18, true));
        for (let j = 0; j < QK / 2; j++) {
          const byte = bytes[b * 18 + 2 + j];
          out[b * QK + j] = ((byte & 15) - 8) * d;
          out[b * QK + j + QK / 2] = ((byte >> 4) - 8) * d;
        }
      }
      return out;
  }
}
