import type { AttributeValue, DataTypeName, GraphSpec, Initializer, NodeSpec, ValueInfo } from './onnxProto';

/** Collects nodes and initializers with generated unique names, so graph code reads like math. */
export class GraphBuilder {
  private readonly nodes: NodeSpec[] = [];
  private readonly initializers: Initializer[] = [];
  private readonly inputs: ValueInfo[] = [];
  private readonly outputs: ValueInfo[] = [];
  private counter = 0;
  private readonly constants = new Map<string, string>();

  input(name: string, type: DataTypeName, dims: (number | string)[]): string {
    this.inputs.push({ name, type, dims });
    return name;
  }

  output(name: string, type: DataTypeName, dims: (number | string)[]): void {
    this.outputs.push({ name, type, dims });
  }

  initializer(name: string, type: DataTypeName, dims: readonly number[], raw: Uint8Array): string {
    this.initializers.push({ name, type, dims, raw });
    return name;
  }

  float(name: string, dims: readonly number[], data: Float32Array): string {
    return this.initializer(name, 'float', dims, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }

  /** A small int64 constant (shapes, axes), shared between uses. */
  ints(values: readonly number[], scalar = false): string {
    const key = `i64:${scalar ? 's' : 'v'}:${values.join(',')}`;
    const existing = this.constants.get(key);
    if (existing) return existing;
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    const name = this.initializer(`const_${this.constants.size}`, 'int64', scalar ? [] : [values.length], new Uint8Array(data.buffer));
    this.constants.set(key, name);
    return name;
  }

  scalarFloat(value: number): string {
    const key = `f32:${value}`;
    const existing = this.constants.get(key);
    if (existing) return existing;
    const name = this.initializer(`const_${this.constants.size}`, 'float', [], new Uint8Array(Float32Array.of(value).buffer));
    this.constants.set(key, name);
    return name;
  }

  /** Adds a node; returns its output names (generated unless given). */
  node(op: string, inputs: readonly string[], options: { outputs?: number | readonly string[]; attributes?: Record<string, AttributeValue>; domain?: string } = {}): string[] {
    const id = this.counter++;
    const outputs = Array.isArray(options.outputs)
      ? [...options.outputs]
      : Array.from({ length: typeof options.outputs === 'number' ? options.outputs : 1 }, (_, i) => `${op}_${id}_out${i}`);
    this.nodes.push({ op, inputs, outputs, name: `${op}_${id}`, domain: options.domain, attributes: options.attributes });
    return outputs;
  }

  /** Single-output node. */
  op(op: string, inputs: readonly string[], attributes?: Record<string, AttributeValue>, domain?: string): string {
    return this.node(op, inputs, { attributes, domain })[0];
  }

  build(name: string): GraphSpec {
    // Unused initializers make ONNX Runtime print warnings on every load.
    const used = new Set(this.nodes.flatMap((node) => node.inputs));
    const initializers = this.initializers.filter((tensor) => used.has(tensor.name));
    return { name, nodes: this.nodes, initializers, inputs: this.inputs, outputs: this.outputs };
  }
}
