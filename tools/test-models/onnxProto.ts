/**
 * A minimal writer for ONNX model files (protobuf), enough to build decoder graphs for tests and
 * benchmarks without Python. Field numbers follow onnx/onnx.proto (IR version 8).
 */

/** ONNX TensorProto.DataType values used here. */
export const DataType = {
  float: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
} as const;
export type DataTypeName = keyof typeof DataType;

class ProtoWriter {
  private chunks: Uint8Array[] = [];
  private length = 0;

  private push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.length += bytes.length;
  }

  private varint(value: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(value));
    const out: number[] = [];
    while (v >= 0x80n) {
      out.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(Number(v));
    this.push(Uint8Array.from(out));
  }

  private tag(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  int(field: number, value: number | bigint): this {
    this.tag(field, 0);
    this.varint(value);
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, 5);
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    this.push(bytes);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, 2);
    this.varint(value.length);
    this.push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, build: (writer: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    build(inner);
    return this.bytes(field, inner.finish());
  }

  packedInts(field: number, values: readonly (number | bigint)[]): this {
    const inner = new ProtoWriter();
    for (const value of values) inner.varint(value);
    return this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }
}

export type AttributeValue = number | string | number[] | { float: number } | { floats: number[] } | { tensor: Initializer };

export interface NodeSpec {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name: string;
  readonly domain?: string;
  /** Integers stay integers; wrap floats as `{ float }`/`{ floats }` so 1.0 is not written as an int. */
  readonly attributes?: Readonly<Record<string, AttributeValue>>;
}

export interface Initializer {
  readonly name: string;
  readonly type: DataTypeName;
  readonly dims: readonly number[];
  /** Little-endian raw bytes of the tensor. */
  readonly raw: Uint8Array;
}

export interface ValueInfo {
  readonly name: string;
  readonly type: DataTypeName;
  /** Numbers are fixed sizes, strings symbolic dimension names. */
  readonly dims: readonly (number | string)[];
}

export interface GraphSpec {
  readonly name: string;
  readonly nodes: readonly NodeSpec[];
  readonly initializers: readonly Initializer[];
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];
}

export interface ModelBytes {
  readonly model: Uint8Array;
  /** Present when initializers were moved to an external data file. */
  readonly externalData?: Uint8Array;
}

function writeTensor(writer: ProtoWriter, tensor: Initializer, external?: { location: string; offset: number }): void {
  writer.packedInts(1, tensor.dims);
  writer.int(2, DataType[tensor.type]);
  writer.string(8, tensor.name);
  if (external) {
    const entry = (key: string, value: string) => writer.message(13, (kv) => kv.string(1, key).string(2, value));
    entry('location', external.location);
    entry('offset', String(external.offset));
    entry('length', String(tensor.raw.length));
    writer.int(14, 1);
  } else {
    writer.bytes(9, tensor.raw);
  }
}

function writeValueInfo(writer: ProtoWriter, info: ValueInfo): void {
  writer.string(1, info.name);
  writer.message(2, (type) =>
    type.message(1, (tensorType) => {
      tensorType.int(1, DataType[info.type]);
      tensorType.message(2, (shape) => {
        for (const dim of info.dims) {
          shape.message(1, (d) => (typeof dim === 'number' ? d.int(1, dim) : d.string(2, dim)));
        }
      });
    }),
  );
}

function writeAttribute(writer: ProtoWriter, name: string, value: AttributeValue): void {
  writer.string(1, name);
  if (typeof value === 'number') {
    writer.int(3, value).int(20, 2);
  } else if (typeof value === 'string') {
    writer.string(4, value).int(20, 3);
  } else if (Array.isArray(value)) {
    writer.packedInts(8, value).int(20, 7);
  } else if ('float' in value) {
    writer.float(2, value.float).int(20, 1);
  } else if ('floats' in value) {
    for (const f of value.floats) writer.float(7, f);
    writer.int(20, 6);
  } else {
    writer.message(5, (t) => writeTensor(t, value.tensor)).int(20, 4);
  }
}

/**
 * Serializes a model. With `externalDataName`, initializers of 1 KiB or more go to a separate
 * buffer that must be written next to the model under that name (as Hugging Face exports do).
 */
export function writeModel(
  graph: GraphSpec,
  options: { readonly opsets: Readonly<Record<string, number>>; readonly externalDataName?: string; readonly irVersion?: number },
): ModelBytes {
  const external: Uint8Array[] = [];
  let externalLength = 0;
  const writer = new ProtoWriter();
  writer.int(1, options.irVersion ?? 8);
  writer.string(2, 'tokenscope-test-models');
  writer.message(7, (g) => {
    for (const node of graph.nodes) {
      g.message(1, (n) => {
        for (const input of node.inputs) n.string(1, input);
        for (const output of node.outputs) n.string(2, output);
        n.string(3, node.name);
        n.string(4, node.op);
        for (const [name, value] of Object.entries(node.attributes ?? {})) n.message(5, (a) => writeAttribute(a, name, value));
        if (node.domain) n.string(7, node.domain);
      });
    }
    g.string(2, graph.name);
    for (const tensor of graph.initializers) {
      const goesExternal = options.externalDataName !== undefined && tensor.raw.length >= 1024;
      g.message(5, (t) => writeTensor(t, tensor, goesExternal ? { location: options.externalDataName!, offset: externalLength } : undefined));
      if (goesExternal) {
        external.push(tensor.raw);
        externalLength += tensor.raw.length;
        // ONNX aligns external tensors; 64 bytes keeps mmap-friendly offsets.
        const pad = (64 - (externalLength % 64)) % 64;
        if (pad) {
          external.push(new Uint8Array(pad));
          externalLength += pad;
        }
      }
    }
    for (const input of graph.inputs) g.message(11, (v) => writeValueInfo(v, input));
    for (const output of graph.outputs) g.message(12, (v) => writeValueInfo(v, output));
  });
  for (const [domain, version] of Object.entries(options.opsets)) {
    writer.message(8, (o) => {
      if (domain) o.string(1, domain);
      o.int(2, version);
    });
  }
  const model = writer.finish();
  if (options.externalDataName === undefined) return { model };
  const data = new Uint8Array(externalLength);
  let offset = 0;
  for (const chunk of external) {
    data.set(chunk, offset);
    offset += chunk.length;
  }
  return { model, externalData: data };
}
