/**
 * Patches applied to an ONNX decoder's raw protobuf bytes before ONNX Runtime loads it (no ONNX
 * library): only node messages are re-encoded or added, weights are copied as they are.
 *
 * 1. `accuracy_level` on the 4-bit MatMulNBits nodes. Hugging Face q4 exports (transformers.js'
 *    quantize script, ONNX Runtime's MatMul4BitsQuantizer with its default) leave it unset, which
 *    makes ONNX Runtime dequantize the weights to fp32 for every product. Level 4 lets its CPU
 *    kernels quantize the activations to int8 per block and use integer dot products (AVX2/AVX-512
 *    VNNI, ARM dotprod), about 1.4x less CPU per token here, the same choice onnxruntime-genai
 *    makes for CPU int4 models. Logits move by about 1e-2 (activation rounding), below what
 *    sampling can notice.
 * 2. Logits for the last positions only. Exports without `num_logits_to_keep` compute the LM head
 *    (hidden x vocabulary, the largest matmul of a small model) for every prompt position, and
 *    ONNX Runtime runs it even when `logits` is not fetched (measured: a 256-token prefill chunk of
 *    the bench's 4-layer model took as long without logits as with them). The runtime only ever
 *    reads the last position's logits, so a Slice of the last position is put in front of the LM
 *    head: a prompt costs one row of it instead of one per token, and the logits ONNX Runtime
 *    copies out shrink from tokens x vocabulary floats to one row. The Slice starts at
 *    -num_logits_to_keep, an input the patch adds with Hugging Face's meaning (the last n rows,
 *    0 for all): the runtime feeds 1, scoring a text feeds the rows it reads.
 */

import { concat, encodeVarint, fields, lengthDelimited, pushAll, stringField, text, type Field } from './onnxProtobuf';

const ACCURACY_LEVEL = 'accuracy_level';

/** AttributeProto { name: "accuracy_level", i: level, type: INT }. */
function accuracyAttribute(level: number): Uint8Array {
  const name = new TextEncoder().encode(ACCURACY_LEVEL);
  return Uint8Array.from([0x0a, name.length, ...name, 0x18, ...encodeVarint(level), 0xa0, 0x01, 0x02]);
}

interface Patch {
  /** The re-encoded message, as chunks (sub-slices of the input where unchanged). */
  readonly chunks: Uint8Array[];
  readonly patched: number;
}

/**
 * Re-encodes the message in bytes[start, end) with each length-delimited field numbered in
 * `numbers` replaced by what `patch` makes of its value; what it leaves alone stays as sub-slices
 * of the input. The one walk every level of the accuracy patch uses (model > graph > node >
 * attribute > subgraph).
 */
function patchFields(bytes: Uint8Array, start: number, end: number, numbers: readonly number[], patch: (valueStart: number, valueEnd: number) => Patch): Patch {
  const chunks: Uint8Array[] = [];
  let patched = 0;
  let copyFrom = start;
  for (const f of fields(bytes, start, end)) {
    if (!numbers.includes(f.field) || f.wireType !== 2) continue;
    const inner = patch(f.valueStart, f.end);
    if (inner.patched === 0) continue;
    chunks.push(bytes.subarray(copyFrom, f.start));
    pushAll(chunks, lengthDelimited(f.field, inner.chunks));
    copyFrom = f.end;
    patched += inner.patched;
  }
  chunks.push(bytes.subarray(copyFrom, end));
  return { chunks, patched };
}

/** GraphProto: nodes are field 1. */
function patchGraph(bytes: Uint8Array, start: number, end: number, level: number): Patch {
  return patchFields(bytes, start, end, [1], (nodeStart, nodeEnd) => patchNode(bytes, nodeStart, nodeEnd, level));
}

/** NodeProto: op_type 4, domain 7, attribute 5 (AttributeProto: name 1, i 3, g 6, graphs 11). */
function patchNode(bytes: Uint8Array, start: number, end: number, level: number): Patch {
  let opType = '';
  let domain = '';
  const attributes: Field[] = [];
  for (const f of fields(bytes, start, end)) {
    if (f.field === 4 && f.wireType === 2) opType = text(bytes, f);
    else if (f.field === 7 && f.wireType === 2) domain = text(bytes, f);
    else if (f.field === 5 && f.wireType === 2) attributes.push(f);
  }
  if (opType === 'MatMulNBits' && domain === 'com.microsoft') {
    let current: number | undefined;
    let existing: Field | undefined;
    for (const attribute of attributes) {
      let name = '';
      let value: number | undefined;
      for (const f of fields(bytes, attribute.valueStart, attribute.end)) {
        if (f.field === 1 && f.wireType === 2) name = text(bytes, f);
        else if (f.field === 3 && f.wireType === 0) value = f.varint;
      }
      if (name === ACCURACY_LEVEL) {
        existing = attribute;
        current = value ?? 0;
      }
    }
    if (current === level) return { chunks: [bytes.subarray(start, end)], patched: 0 };
    const replacement = lengthDelimited(5, [accuracyAttribute(level)]);
    if (existing) return { chunks: [bytes.subarray(start, existing.start), ...replacement, bytes.subarray(existing.end, end)], patched: 1 };
    return { chunks: [bytes.subarray(start, end), ...replacement], patched: 1 };
  }
  if (opType !== 'If' && opType !== 'Loop' && opType !== 'Scan') return { chunks: [bytes.subarray(start, end)], patched: 0 };
  // Control-flow nodes hold subgraphs (Optimum's merged decoders keep their MatMuls there): attribute g (6) or graphs (11).
  return patchFields(bytes, start, end, [5], (attributeStart, attributeEnd) => patchFields(bytes, attributeStart, attributeEnd, [6, 11], (graphStart, graphEnd) => patchGraph(bytes, graphStart, graphEnd, level)));
}

/** Counts MatMulNBits nodes per accuracy level (for tests and diagnostics). */
export function matMulNBitsAccuracyLevels(model: Uint8Array): Map<number, number> {
  const counts = new Map<number, number>();
  const visitGraph = (start: number, end: number) => {
    for (const f of fields(model, start, end)) if (f.field === 1 && f.wireType === 2) visitNode(f.valueStart, f.end);
  };
  const visitNode = (start: number, end: number) => {
    let opType = '';
    let level = 0;
    for (const f of fields(model, start, end)) {
      if (f.field === 4 && f.wireType === 2) opType = text(model, f);
      if (f.field !== 5 || f.wireType !== 2) continue;
      let name = '';
      let value = 0;
      for (const a of fields(model, f.valueStart, f.end)) {
        if (a.field === 1 && a.wireType === 2) name = text(model, a);
        else if (a.field === 3 && a.wireType === 0) value = a.varint ?? 0;
        else if ((a.field === 6 || a.field === 11) && a.wireType === 2) visitGraph(a.valueStart, a.end);
      }
      if (name === ACCURACY_LEVEL) level = value;
    }
    if (opType === 'MatMulNBits') counts.set(level, (counts.get(level) ?? 0) + 1);
  };
  for (const f of fields(model)) if (f.field === 7 && f.wireType === 2) visitGraph(f.valueStart, f.end);
  return counts;
}

/**
 * Returns the model with every MatMulNBits node at `level`, or undefined when none needs a
 * change (or the bytes are not a model this parser understands: the caller then loads the file
 * as it is and lets ONNX Runtime report any problem).
 */
export function patchMatMulNBitsAccuracy(model: Uint8Array, level: number): { bytes: Uint8Array; patchedNodes: number } | undefined {
  try {
    // ModelProto: the graph is field 7.
    const { chunks, patched } = patchFields(model, 0, model.length, [7], (graphStart, graphEnd) => patchGraph(model, graphStart, graphEnd, level));
    if (patched === 0) return undefined;
    return { bytes: concat(chunks), patchedNodes: patched };
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Logits for the last position only

const LAST_POSITION_PREFIX = 'tokenscope_last_position';
/** Ops between the LM head matmul and `logits` that act on each position alone (casts, bias, soft-capping). */
const PER_POSITION_OPS = new Set(['Identity', 'Cast', 'Add', 'Sub', 'Mul', 'Div', 'Tanh']);
const MATMUL_OPS = new Set(['MatMul', 'MatMulNBits']);
const CONTROL_FLOW_OPS = new Set(['If', 'Loop', 'Scan']);

interface NodeRecord {
  readonly field: Field;
  readonly opType: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

function int64Tensor(value: bigint): Uint8Array[] {
  // TensorProto { dims: [1] (1), data_type: INT64 = 7 (2), raw_data: 8 bytes (9) }
  const raw = new Uint8Array(8);
  new DataView(raw.buffer).setBigInt64(0, value, true);
  return [Uint8Array.of(0x08, 0x01, 0x10, 0x07), ...lengthDelimited(9, [raw])];
}

/** NodeProto: inputs 1, outputs 2, name 3, op_type 4, attribute 5 (also used by the inspection graph). */
export function nodeBytes(opType: string, name: string, inputs: readonly string[], outputs: readonly string[], attributes: readonly Uint8Array[][] = []): Uint8Array[] {
  const body = [...inputs.flatMap((input) => stringField(1, input)), ...outputs.flatMap((output) => stringField(2, output)), ...stringField(3, name), ...stringField(4, opType), ...attributes.flatMap((attribute) => lengthDelimited(5, attribute))];
  return lengthDelimited(1, body);
}

/** Constant node holding a one-element int64 tensor (AttributeProto { name: "value", t, type: TENSOR = 4 }). */
function int64Constant(output: string, value: bigint): Uint8Array[] {
  const attribute = [...stringField(1, 'value'), ...lengthDelimited(5, int64Tensor(value)), Uint8Array.of(0xa0, 0x01, 0x04)];
  return nodeBytes('Constant', output, [], [output], [attribute]);
}

/** The input the patch adds: how many of the last positions get logits (int64, shape [1]). */
const KEEP_INPUT = 'num_logits_to_keep';

/** ValueInfoProto { name 1, type 2: TypeProto { tensor_type 1: { elem_type 1: INT64 = 7, shape 2: { dim 1: { dim_value 1: 1 } } } } }. */
function keepInputInfo(): Uint8Array[] {
  const shape = lengthDelimited(2, lengthDelimited(1, [Uint8Array.of(0x08, 0x01)]));
  const tensorType = lengthDelimited(1, [Uint8Array.of(0x08, 0x07), ...shape]);
  return [...stringField(1, KEEP_INPUT), ...lengthDelimited(2, tensorType)];
}

/** Number of dims declared for a graph output (ValueInfoProto.type.tensor_type.shape.dim), if any. */
function declaredRank(bytes: Uint8Array, valueInfo: Field): number | undefined {
  for (const type of fields(bytes, valueInfo.valueStart, valueInfo.end)) {
    if (type.field !== 2 || type.wireType !== 2) continue;
    for (const tensor of fields(bytes, type.valueStart, type.end)) {
      if (tensor.field !== 1 || tensor.wireType !== 2) continue;
      for (const shape of fields(bytes, tensor.valueStart, tensor.end)) {
        if (shape.field !== 2 || shape.wireType !== 2) continue;
        let rank = 0;
        for (const dim of fields(bytes, shape.valueStart, shape.end)) if (dim.field === 1) rank++;
        return rank;
      }
    }
  }
  return undefined;
}

/** Default-domain opset of the model (ModelProto.opset_import, OperatorSetIdProto { domain 1, version 2 }). */
function defaultOpset(model: Uint8Array): number {
  let version = 0;
  for (const f of fields(model)) {
    if (f.field !== 8 || f.wireType !== 2) continue;
    let domain = '';
    let v = 0;
    for (const g of fields(model, f.valueStart, f.end)) {
      if (g.field === 1 && g.wireType === 2) domain = text(model, g);
      else if (g.field === 2 && g.wireType === 0) v = g.varint ?? 0;
    }
    if (domain === '' || domain === 'ai.onnx') version = Math.max(version, v);
  }
  return version;
}

/** The graph with a Slice of the last position in front of its LM head, or undefined when the graph does not have the expected shape. */
function patchGraphLastPosition(bytes: Uint8Array, start: number, end: number): Uint8Array[] | undefined {
  const nodes: NodeRecord[] = [];
  const constants = new Set<string>();
  const outputs = new Map<string, Field>();
  const names = new Set<string>();
  const graphFields = [...fields(bytes, start, end)].filter((f) => f.wireType === 2);
  // Initializers, inputs and outputs first: exporters write the nodes before the initializers.
  for (const f of graphFields) {
    if (f.field === 5) {
      for (const g of fields(bytes, f.valueStart, f.end)) if (g.field === 8 && g.wireType === 2) constants.add(text(bytes, g));
    } else if (f.field === 11) {
      for (const g of fields(bytes, f.valueStart, f.end)) {
        if (g.field !== 1 || g.wireType !== 2) continue;
        const input = text(bytes, g);
        // The graph can already keep only the last logits.
        if (input === KEEP_INPUT) return undefined;
        names.add(input);
      }
    } else if (f.field === 12) {
      for (const g of fields(bytes, f.valueStart, f.end)) if (g.field === 1 && g.wireType === 2) outputs.set(text(bytes, g), f);
    }
  }
  for (const f of graphFields) {
    if (f.field !== 1) continue;
    let opType = '';
    const inputs: string[] = [];
    const nodeOutputs: string[] = [];
    for (const g of fields(bytes, f.valueStart, f.end)) {
      if (g.wireType !== 2) continue;
      if (g.field === 1) inputs.push(text(bytes, g));
      else if (g.field === 2) nodeOutputs.push(text(bytes, g));
      else if (g.field === 4) opType = text(bytes, g);
    }
    // Control flow: subgraphs may read values by name from this scope; leave such graphs alone.
    if (CONTROL_FLOW_OPS.has(opType)) return undefined;
    nodes.push({ field: f, opType, inputs, outputs: nodeOutputs });
    for (const output of nodeOutputs) names.add(output);
    // Values computed only from constants (a transposed tied embedding, say) are constants too.
    if (opType === 'Constant' || (inputs.length > 0 && inputs.every((input) => input === '' || constants.has(input)))) for (const output of nodeOutputs) constants.add(output);
  }
  const logitsInfo = outputs.get('logits');
  if (!logitsInfo || declaredRank(bytes, logitsInfo) !== 3) return undefined;
  if ([...names].some((name) => name.startsWith(LAST_POSITION_PREFIX))) return undefined;
  const producer = new Map<string, NodeRecord>();
  const consumers = new Map<string, number>();
  for (const node of nodes) {
    for (const output of node.outputs) producer.set(output, node);
    for (const input of node.inputs) consumers.set(input, (consumers.get(input) ?? 0) + 1);
  }
  // Walk back from `logits` through per-position ops to the LM head matmul.
  let node = producer.get('logits');
  for (let steps = 0; node && !MATMUL_OPS.has(node.opType); steps++) {
    if (steps > 8 || !PER_POSITION_OPS.has(node.opType)) return undefined;
    const variable = node.inputs.filter((input) => input !== '' && !constants.has(input));
    if (variable.length !== 1 || consumers.get(variable[0]) !== 1 || outputs.has(variable[0])) return undefined;
    node = producer.get(variable[0]);
  }
  if (!node) return undefined;
  const head = node;
  const [hidden, weight] = head.inputs;
  if (!hidden || constants.has(hidden) || !constants.has(weight)) return undefined;
  const sliced = `${LAST_POSITION_PREFIX}/hidden`;
  const inserted = [
    // starts = -num_logits_to_keep: the last n positions (0: all of them, as Hugging Face's input).
    ...nodeBytes('Neg', `${LAST_POSITION_PREFIX}/neg`, [KEEP_INPUT], [`${LAST_POSITION_PREFIX}/starts`]),
    ...int64Constant(`${LAST_POSITION_PREFIX}/ends`, 0x7fffffffffffffffn),
    ...int64Constant(`${LAST_POSITION_PREFIX}/axes`, 1n),
    ...nodeBytes('Slice', `${LAST_POSITION_PREFIX}/slice`, [hidden, `${LAST_POSITION_PREFIX}/starts`, `${LAST_POSITION_PREFIX}/ends`, `${LAST_POSITION_PREFIX}/axes`], [sliced]),
  ];
  // The head reads the sliced hidden state: its first input field is replaced, the rest kept in order.
  const headFields = [...fields(bytes, head.field.valueStart, head.field.end)];
  const firstInput = headFields.find((g) => g.field === 1 && g.wireType === 2)!;
  const headBody = [...stringField(1, sliced), bytes.subarray(head.field.valueStart, firstInput.start), bytes.subarray(firstInput.end, head.field.end)];
  return [bytes.subarray(start, head.field.start), ...inserted, ...lengthDelimited(1, headBody), bytes.subarray(head.field.end, end), ...lengthDelimited(11, keepInputInfo())];
}

/**
 * Returns the model computing logits for the last position only ([batch, 1, vocab]), or undefined
 * when it already does (num_logits_to_keep), uses control flow (merged decoders), or has an LM head
 * this patch does not recognize: the model is then loaded as it is.
 */
export function patchLogitsToLastPosition(model: Uint8Array): Uint8Array | undefined {
  try {
    if (defaultOpset(model) < 10) return undefined;
    const chunks: Uint8Array[] = [];
    let copyFrom = 0;
    let patched = false;
    for (const f of fields(model)) {
      if (f.field !== 7 || f.wireType !== 2) continue;
      const graph = patchGraphLastPosition(model, f.valueStart, f.end);
      if (!graph) return undefined;
      chunks.push(model.subarray(copyFrom, f.start));
      pushAll(chunks, lengthDelimited(7, graph));
      copyFrom = f.end;
      patched = true;
    }
    if (!patched) return undefined;
    chunks.push(model.subarray(copyFrom));
    return concat(chunks);
  } catch {
    return undefined;
  }
}
