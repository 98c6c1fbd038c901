/**
 * The protobuf wire format, as much of it as reading and patching an ONNX model needs (no ONNX or
 * protobuf library: a model is read as bytes and only the messages a patch changes are re-encoded;
 * weights are copied as they are). Used by the graph patches (onnxPatch.ts) and the GGUF export tool.
 */

export interface Field {
  readonly field: number;
  readonly wireType: number;
  /** Byte range of the whole field (tag included). */
  readonly start: number;
  readonly end: number;
  /** Payload range for length-delimited fields. */
  readonly valueStart: number;
  /** Varint value (wire type 0). */
  readonly varint?: number;
}

function readVarint(bytes: Uint8Array, offset: number): { value: number; next: number } {
  let value = 0;
  let multiplier = 1;
  let position = offset;
  for (;;) {
    if (position >= bytes.length) throw new Error('truncated varint');
    const byte = bytes[position++];
    value += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) return { value, next: position };
    multiplier *= 128;
    if (multiplier > 2 ** 63) throw new Error('varint too long');
  }
}

/** Top-level fields of a protobuf message (no schema): also used by the GGUF tooling to read ONNX weights. */
export function* fields(bytes: Uint8Array, start = 0, end = bytes.length): Generator<Field> {
  let offset = start;
  while (offset < end) {
    const fieldStart = offset;
    const tag = readVarint(bytes, offset);
    offset = tag.next;
    const field = Math.floor(tag.value / 8);
    const wireType = tag.value & 7;
    switch (wireType) {
      case 0: {
        const value = readVarint(bytes, offset);
        offset = value.next;
        yield { field, wireType, start: fieldStart, end: offset, valueStart: offset, varint: value.value };
        break;
      }
      case 1:
        offset += 8;
        yield { field, wireType, start: fieldStart, end: offset, valueStart: offset - 8 };
        break;
      case 2: {
        const length = readVarint(bytes, offset);
        const valueStart = length.next;
        offset = valueStart + length.value;
        if (offset > end) throw new Error('truncated field');
        yield { field, wireType, start: fieldStart, end: offset, valueStart };
        break;
      }
      case 5:
        offset += 4;
        yield { field, wireType, start: fieldStart, end: offset, valueStart: offset - 4 };
        break;
      default:
        throw new Error(`unsupported protobuf wire type ${wireType}`);
    }
    if (offset > end) throw new Error('truncated message');
  }
}

export function encodeVarint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

/** Appends in a loop: push(...items) overflows the call stack for long lists (a graph's chunks). */
export function pushAll(target: Uint8Array[], items: readonly Uint8Array[]): void {
  for (const item of items) target.push(item);
}

export function lengthDelimited(field: number, payload: readonly Uint8Array[]): Uint8Array[] {
  const length = payload.reduce((sum, chunk) => sum + chunk.length, 0);
  return [Uint8Array.from([...encodeVarint(field * 8 + 2), ...encodeVarint(length)]), ...payload];
}

const decoder = new TextDecoder();
export const text = (bytes: Uint8Array, f: Field) => decoder.decode(bytes.subarray(f.valueStart, f.end));

/** A length-delimited string field. */
export const stringField = (field: number, value: string): Uint8Array[] => lengthDelimited(field, [new TextEncoder().encode(value)]);

/** The chunks as one buffer. */
export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}
