/**
 * The inspection graph: a decoder's ONNX graph patched in memory (no second copy of the weights,
 * on disk or in the file) so one forward pass also returns, for one query position,
 * - each layer's attention probabilities (the outputs of its Softmax nodes, [batch, heads, 1, keys]);
 * - each layer's hidden state (the residual stream after the layer, [batch, 1, hidden]);
 * - the logit lens: the graph's own final norm and LM head applied to each layer's hidden state
 *   ([batch, 1, vocab]). The nodes from the last hidden state to `logits` are copied per layer with
 *   new value names; they read the same initializers, so no weight is duplicated.
 * The query position is a new graph input. Every new output is cast to float32.
 *
 * The residual stream is found by structure, not by names: from the embedding lookup (a Gather of
 * `input_ids`), each step is the Add that adds the stream to something computed from it (the
 * attention or MLP branch); a pre-norm decoder has two per layer. Exports that fuse those adds
 * (SkipSimplifiedLayerNormalization) or compute attention in one fused node (GroupQueryAttention,
 * MultiHeadAttention) expose less: what is missing is said in `attentionUnavailable` / `lensUnavailable`.
 */
import { nodeBytes } from './onnxPatch';
import { concat, fields, lengthDelimited, pushAll, stringField, text, type Field } from './onnxProtobuf';

export const QUERY_POSITION_INPUT = 'tokenscope_query_position';
const PREFIX = 'tokenscope_inspect';
const FUSED_ATTENTION_OPS = new Set(['GroupQueryAttention', 'MultiHeadAttention', 'Attention', 'PackedAttention', 'PagedAttention', 'SparseAttention']);

export interface GraphNode {
  readonly field: Field;
  readonly opType: string;
  readonly domain: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

export interface ParsedGraph {
  readonly nodes: readonly GraphNode[];
  /** Initializers and values computed only from them. */
  readonly constants: ReadonlySet<string>;
  readonly initializers: ReadonlyMap<string, Field>;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

export function parseGraph(bytes: Uint8Array, start: number, end: number): ParsedGraph {
  const nodes: GraphNode[] = [];
  const constants = new Set<string>();
  const initializers = new Map<string, Field>();
  const inputs: string[] = [];
  const outputs: string[] = [];
  const graphFields = [...fields(bytes, start, end)].filter((f) => f.wireType === 2);
  for (const f of graphFields) {
    if (f.field === 5) {
      for (const g of fields(bytes, f.valueStart, f.end)) {
        if (g.field === 8 && g.wireType === 2) {
          constants.add(text(bytes, g));
          initializers.set(text(bytes, g), f);
        }
      }
    } else if (f.field === 11 || f.field === 12) {
      for (const g of fields(bytes, f.valueStart, f.end)) if (g.field === 1 && g.wireType === 2) (f.field === 11 ? inputs : outputs).push(text(bytes, g));
    }
  }
  for (const f of graphFields) {
    if (f.field !== 1) continue;
    let opType = '';
    let domain = '';
    const nodeInputs: string[] = [];
    const nodeOutputs: string[] = [];
    for (const g of fields(bytes, f.valueStart, f.end)) {
      if (g.wireType !== 2) continue;
      if (g.field === 1) nodeInputs.push(text(bytes, g));
      else if (g.field === 2) nodeOutputs.push(text(bytes, g));
      else if (g.field === 4) opType = text(bytes, g);
      else if (g.field === 7) domain = text(bytes, g);
    }
    nodes.push({ field: f, opType, domain, inputs: nodeInputs, outputs: nodeOutputs });
    if (opType === 'Constant' || (nodeInputs.length > 0 && nodeInputs.every((input) => input === '' || constants.has(input)))) for (const output of nodeOutputs) constants.add(output);
  }
  return { nodes, constants, initializers, inputs, outputs };
}

export interface InspectionGraph {
  readonly bytes: Uint8Array;
  /** Per layer, in order: [batch, heads, 1, keys] float32; empty when unavailable. */
  readonly attentionOutputs: readonly string[];
  /** Per layer: [batch, 1, hidden] float32; empty when unavailable. */
  readonly hiddenOutputs: readonly string[];
  /** Per layer: [batch, 1, vocab] float32 (the last one is the model's own logits); empty when unavailable. */
  readonly lensOutputs: readonly string[];
  readonly attentionUnavailable?: string;
  readonly lensUnavailable?: string;
}

/** The residual stream: its value before the first layer, then after each Add, in order. */
function residualStream(graph: ParsedGraph): string[] | undefined {
  const consumers = new Map<string, GraphNode[]>();
  for (const node of graph.nodes) {
    for (const input of node.inputs) {
      const list = consumers.get(input);
      if (list) list.push(node);
      else consumers.set(input, [node]);
    }
  }
  const embedding = graph.nodes.find((node) => node.inputs[1] === 'input_ids' && (node.opType === 'Gather' || node.opType === 'GatherBlockQuantized'));
  if (!embedding) return undefined;
  const reachable = (from: string): Set<string> => {
    const seen = new Set<string>([from]);
    const queue = [from];
    while (queue.length > 0) {
      for (const node of consumers.get(queue.pop()!) ?? []) for (const output of node.outputs) if (!seen.has(output)) {
        seen.add(output);
        queue.push(output);
      }
    }
    return seen;
  };
  let current = embedding.outputs[0];
  const stream = [current];
  // Before the first layer: position embeddings, an embedding scale, a cast (one consumer each).
  for (let pre = 0; pre < 3; pre++) {
    const next = consumers.get(current) ?? [];
    if (next.length !== 1 || !['Add', 'Mul', 'Cast'].includes(next[0].opType)) break;
    current = next[0].outputs[0];
    stream[0] = current;
  }
  for (;;) {
    const downstream = reachable(current);
    const step = (consumers.get(current) ?? []).find((node) => {
      if (node.opType !== 'Add' || node.inputs.length !== 2) return false;
      const other = node.inputs[0] === current ? node.inputs[1] : node.inputs[0];
      return other !== current && !graph.constants.has(other) && downstream.has(other);
    });
    if (!step) return stream;
    current = step.outputs[0];
    stream.push(current);
  }
}

/** Re-encodes a node with its inputs, outputs and name renamed (attributes, op type and domain kept). */
function renamedNode(bytes: Uint8Array, node: GraphNode, rename: (value: string) => string, suffix: string): Uint8Array[] {
  const body: Uint8Array[] = [];
  for (const f of fields(bytes, node.field.valueStart, node.field.end)) {
    if (f.wireType === 2 && (f.field === 1 || f.field === 2)) pushAll(body, stringField(f.field, rename(text(bytes, f))));
    else if (f.wireType === 2 && f.field === 3) pushAll(body, stringField(3, `${text(bytes, f)}${suffix}`));
    else body.push(bytes.subarray(f.start, f.end));
  }
  return lengthDelimited(1, body);
}

/** ValueInfoProto { name, type: { tensor_type: { elem_type } } } (no shape: any rank). */
function valueInfo(field: number, name: string, elemType: number): Uint8Array[] {
  const tensorType = lengthDelimited(1, [Uint8Array.of(0x08, elemType)]);
  return lengthDelimited(field, [...stringField(1, name), ...lengthDelimited(2, tensorType)]);
}

function castToFloat(input: string, output: string): Uint8Array[] {
  // AttributeProto { name: "to", i: 1 (FLOAT), type: INT = 2 }
  return nodeBytes('Cast', `${output}/cast`, [input], [output], [[...stringField(1, 'to'), Uint8Array.of(0x18, 0x01, 0xa0, 0x01, 0x02)]]);
}

function gatherAt(input: string, output: string, axis: number): Uint8Array[] {
  return nodeBytes('Gather', `${output}/gather`, [input, QUERY_POSITION_INPUT], [output], [[...stringField(1, 'axis'), Uint8Array.of(0x18, axis, 0xa0, 0x01, 0x02)]]);
}

function patchGraph(bytes: Uint8Array, start: number, end: number, numLayers: number): { chunks: Uint8Array[]; graph: Omit<InspectionGraph, 'bytes'> } {
  const graph = parseGraph(bytes, start, end);
  if (graph.inputs.includes(QUERY_POSITION_INPUT)) throw new Error('already an inspection graph');
  const added: Uint8Array[] = [];
  const outputs: Uint8Array[] = [];
  const attentionOutputs: string[] = [];
  const hiddenOutputs: string[] = [];
  const lensOutputs: string[] = [];
  let attentionUnavailable: string | undefined;
  let lensUnavailable: string | undefined;

  const fused = graph.nodes.find((node) => FUSED_ATTENTION_OPS.has(node.opType));
  const softmaxes = graph.nodes.filter((node) => node.opType === 'Softmax');
  if (fused) attentionUnavailable = `This export computes attention inside fused ${fused.opType} nodes, which do not expose the attention weights (the hidden states and the logit lens still work). An export with plain MatMul + Softmax attention (e.g. Optimum's) shows them.`;
  else if (softmaxes.length !== numLayers) attentionUnavailable = `This export has ${softmaxes.length} Softmax nodes for ${numLayers} layers, so its attention weights cannot be told apart.`;
  else {
    softmaxes.forEach((node, layer) => {
      const row = `${PREFIX}/attention.${layer}/row`;
      const name = `${PREFIX}/attention.${layer}`;
      pushAll(added, gatherAt(node.outputs[0], row, 2));
      pushAll(added, castToFloat(row, name));
      pushAll(outputs, valueInfo(12, name, 1));
      attentionOutputs.push(name);
    });
  }

  const stream = residualStream(graph);
  if (!stream || stream.length !== 2 * numLayers + 1) {
    lensUnavailable = `The residual stream of this export was not found (${stream ? `${stream.length - 1} residual adds for ${numLayers} layers` : 'no embedding lookup of input_ids'}): exports that fuse the residual add into the norm (SkipSimplifiedLayerNormalization) do not expose each layer's hidden state.`;
  } else {
    const last = stream[stream.length - 1];
    // The tail: nodes downstream of the last hidden state and upstream of logits (final norm, LM head, casts).
    const producer = new Map<string, GraphNode>();
    for (const node of graph.nodes) for (const output of node.outputs) producer.set(output, node);
    const upstream = new Set<GraphNode>();
    const queue = ['logits'];
    while (queue.length > 0) {
      const node = producer.get(queue.pop()!);
      if (!node || upstream.has(node) || node.outputs.includes(last)) continue;
      upstream.add(node);
      for (const input of node.inputs) if (!graph.constants.has(input)) queue.push(input);
    }
    const tailValues = new Set<string>([last]);
    const tail: GraphNode[] = [];
    for (const node of graph.nodes) {
      if (!upstream.has(node) || !node.inputs.some((input) => tailValues.has(input))) continue;
      tail.push(node);
      for (const output of node.outputs) tailValues.add(output);
    }
    if (tail.length === 0 || !tailValues.has('logits')) lensUnavailable = 'The nodes between the last hidden state and the logits were not found.';
    else {
      for (let layer = 0; layer < numLayers; layer++) {
        const hidden = `${PREFIX}/hidden.${layer}`;
        const atQuery = `${hidden}/at_query`;
        pushAll(added, gatherAt(stream[2 * layer + 2], atQuery, 1));
        pushAll(added, castToFloat(atQuery, hidden));
        pushAll(outputs, valueInfo(12, hidden, 1));
        hiddenOutputs.push(hidden);
        const suffix = `/${PREFIX}_lens.${layer}`;
        const rename = (value: string) => (value === last ? atQuery : tailValues.has(value) ? `${value}${suffix}` : value);
        for (const node of tail) pushAll(added, renamedNode(bytes, node, rename, suffix));
        const lens = `${PREFIX}/lens.${layer}`;
        pushAll(added, castToFloat(`logits${suffix}`, lens));
        pushAll(outputs, valueInfo(12, lens, 1));
        lensOutputs.push(lens);
      }
    }
  }
  const chunks = [bytes.subarray(start, end), ...added, ...valueInfo(11, QUERY_POSITION_INPUT, 7), ...outputs];
  return { chunks, graph: { attentionOutputs, hiddenOutputs, lensOutputs, attentionUnavailable, lensUnavailable } };
}

/**
 * The inspection graph of a decoder with `numLayers` layers, or an error saying why the model
 * cannot be inspected at all. Pass the bytes after the last-position patch when it applies: the
 * lens then copies that Slice too (harmless on one position) and `logits` stays one row.
 */
export function buildInspectionGraph(model: Uint8Array, numLayers: number): InspectionGraph {
  const chunks: Uint8Array[] = [];
  let copyFrom = 0;
  let result: Omit<InspectionGraph, 'bytes'> | undefined;
  for (const f of fields(model)) {
    if (f.field !== 7 || f.wireType !== 2) continue;
    const patched = patchGraph(model, f.valueStart, f.end, numLayers);
    chunks.push(model.subarray(copyFrom, f.start));
    pushAll(chunks, lengthDelimited(7, patched.chunks));
    copyFrom = f.end;
    result = patched.graph;
  }
  if (!result) throw new Error('no graph in the model file');
  chunks.push(model.subarray(copyFrom));
  return { bytes: concat(chunks), ...result };
}
