/**
 * Does the tokenizer belong to the model? Checked at load, before ONNX Runtime builds a session:
 * a tokenizer with ids beyond the model's embedding loads fine and then fails in ONNX Runtime's
 * Gather (an error that blames model.onnx), and one far smaller than the model's vocabulary
 * loads fine and writes gibberish. Both are a tokenizer.json from another model.
 *
 * The embedding's rows come from the ONNX file itself, read as protobuf without loading it:
 * only field headers, node messages and initializer headers are read, weights are skipped, so a
 * multi-gigabyte file costs a few hundred small reads.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';

/** Reads protobuf fields of a file window by window (positional reads, no whole-file buffer). */
class ProtoFile {
  private window = Buffer.alloc(0);
  private windowStart = 0;

  constructor(private readonly handle: FileHandle, readonly size: number) {}

  async bytes(position: number, length: number): Promise<Buffer> {
    if (position >= this.windowStart && position + length <= this.windowStart + this.window.length) {
      return this.window.subarray(position - this.windowStart, position - this.windowStart + length);
    }
    const size = Math.max(length, 64 * 1024);
    const buffer = Buffer.alloc(Math.min(size, this.size - position));
    const { bytesRead } = await this.handle.read(buffer, 0, buffer.length, position);
    if (bytesRead < length) throw new Error('truncated');
    this.window = buffer.subarray(0, bytesRead);
    this.windowStart = position;
    return this.window.subarray(0, length);
  }

  async varint(position: number): Promise<{ value: number; next: number }> {
    const bytes = await this.bytes(position, Math.min(10, this.size - position));
    let value = 0;
    let multiplier = 1;
    for (let index = 0; index < bytes.length; index++) {
      const byte = bytes[index] ?? 0;
      value += (byte & 0x7f) * multiplier;
      if ((byte & 0x80) === 0) return { value, next: position + index + 1 };
      multiplier *= 128;
    }
    throw new Error('bad varint');
  }

  /** The fields in [start, end): number, wire type, payload start and end (payloads unread). */
  async *fields(start: number, end: number): AsyncGenerator<{ field: number; wire: number; start: number; end: number; varint?: number }> {
    let position = start;
    while (position < end) {
      const tag = await this.varint(position);
      const field = Math.floor(tag.value / 8);
      const wire = tag.value & 7;
      position = tag.next;
      if (wire === 0) {
        const value = await this.varint(position);
        yield { field, wire, start: position, end: value.next, varint: value.value };
        position = value.next;
      } else if (wire === 1 || wire === 5) {
        const length = wire === 1 ? 8 : 4;
        yield { field, wire, start: position, end: position + length };
        position += length;
      } else if (wire === 2) {
        const length = await this.varint(position);
        const payloadEnd = length.next + length.value;
        if (payloadEnd > end) throw new Error('truncated');
        yield { field, wire, start: length.next, end: payloadEnd };
        position = payloadEnd;
      } else {
        throw new Error(`wire type ${wire}`);
      }
    }
  }

  async text(start: number, end: number): Promise<string> {
    return (await this.bytes(start, end - start)).toString('utf8');
  }
}

interface GraphNode {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

/** Nodes bigger than this hold subgraphs (If/Loop), never the embedding lookup itself. */
const MAX_NODE_BYTES = 1 << 20;

async function readGraph(file: ProtoFile, start: number, end: number): Promise<{ nodes: GraphNode[]; initializers: Map<string, number[]> }> {
  const nodes: GraphNode[] = [];
  const initializers = new Map<string, number[]>();
  for await (const f of file.fields(start, end)) {
    if (f.wire !== 2) continue;
    if (f.field === 1 && f.end - f.start <= MAX_NODE_BYTES) {
      // NodeProto: input 1, output 2, op_type 4.
      let op = '';
      const inputs: string[] = [];
      const outputs: string[] = [];
      for await (const n of file.fields(f.start, f.end)) {
        if (n.wire !== 2) continue;
        if (n.field === 1) inputs.push(await file.text(n.start, n.end));
        else if (n.field === 2) outputs.push(await file.text(n.start, n.end));
        else if (n.field === 4) op = await file.text(n.start, n.end);
      }
      nodes.push({ op, inputs, outputs });
    } else if (f.field === 5) {
      // TensorProto: dims 1 (varints, packed or not), name 8; the data fields are skipped unread.
      const dims: number[] = [];
      let name = '';
      for await (const t of file.fields(f.start, f.end)) {
        if (t.field === 1 && t.wire === 0 && t.varint !== undefined) dims.push(t.varint);
        else if (t.field === 1 && t.wire === 2) for (let position = t.start; position < t.end; ) {
          const value = await file.varint(position);
          dims.push(value.value);
          position = value.next;
        }
        else if (t.field === 8 && t.wire === 2) name = await file.text(t.start, t.end);
      }
      if (name) initializers.set(name, dims);
    }
  }
  return { nodes, initializers };
}

/** Ops an embedding passes through between its stored weight and the lookup (4-bit, int8, fp16 exports). */
const WEIGHT_PASSTHROUGH = new Set(['DequantizeLinear', 'Cast', 'Identity']);
const INDEX_PASSTHROUGH = new Set(['Cast', 'Identity', 'Reshape', 'Unsqueeze', 'Squeeze', 'Flatten']);
const LOOKUPS = new Set(['Gather', 'GatherBlockQuantized']);

/**
 * Rows of the embedding table the graph looks `input_ids` up in, or undefined when the file
 * cannot be read this way (then only config.json's vocab_size is checked).
 */
export async function readEmbeddingRows(onnxPath: string, inputName = 'input_ids'): Promise<number | undefined> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(onnxPath, 'r');
    const file = new ProtoFile(handle, (await handle.stat()).size);
    let graph: { nodes: GraphNode[]; initializers: Map<string, number[]> } | undefined;
    for await (const f of file.fields(0, file.size)) {
      if (f.field === 7 && f.wire === 2) graph = await readGraph(file, f.start, f.end);
    }
    if (!graph) return undefined;
    // The ids, as the lookup sees them (some exports cast or reshape them first).
    const ids = new Set([inputName]);
    for (let hop = 0; hop < 3; hop++) {
      for (const node of graph.nodes) if (INDEX_PASSTHROUGH.has(node.op) && ids.has(node.inputs[0] ?? '')) for (const output of node.outputs) ids.add(output);
    }
    const lookup = graph.nodes.find((node) => LOOKUPS.has(node.op) && ids.has(node.inputs[1] ?? ''));
    let weight = lookup?.inputs[0];
    for (let hop = 0; weight !== undefined && hop < 4; hop++) {
      const dims = graph.initializers.get(weight);
      if (dims) return dims[0];
      const producer = graph.nodes.find((node) => node.outputs.includes(weight ?? ''));
      weight = producer && WEIGHT_PASSTHROUGH.has(producer.op) ? producer.inputs[0] : undefined;
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    await handle?.close();
  }
}

export interface VocabularyFacts {
  readonly tokenizerPath: string;
  /** The tokenizer's largest id. */
  readonly tokenizerMaxId: number;
  /** config.json's vocab_size. */
  readonly configVocabSize: number;
  readonly onnxPath: string;
  /** Rows of the graph's embedding table, when they could be read. */
  readonly embeddingRows?: number;
}

/**
 * Why the tokenizer does not belong to the model, or undefined when it does. Vocabularies are
 * often padded (Qwen2.5: 151,665 tokens for 151,936 rows), so "smaller" means short by more than
 * 10% (and 64 ids).
 */
export function vocabularyMismatch(facts: VocabularyFacts): string | undefined {
  const { tokenizerPath, tokenizerMaxId, configVocabSize, embeddingRows } = facts;
  const where = `config.json vocab_size ${configVocabSize}${embeddingRows === undefined ? '' : `, embedding rows ${embeddingRows} in ${basename(facts.onnxPath)}`}`;
  const fix = 'Download tokenizer.json and tokenizer_config.json from the same model repository as its ONNX files.';
  const limit = Math.min(configVocabSize, embeddingRows ?? configVocabSize);
  if (tokenizerMaxId >= limit) {
    return `${tokenizerPath} has token ids up to ${tokenizerMaxId}, but the model has ${limit} (${where}): this tokenizer does not belong to this model. ${fix}`;
  }
  const size = Math.max(configVocabSize, embeddingRows ?? 0);
  const tokens = tokenizerMaxId + 1;
  if (tokens < size - Math.max(64, size * 0.1)) {
    return `${tokenizerPath} has only ${tokens} tokens, but the model has ${size} (${where}): this tokenizer does not belong to this model (its text would come out as gibberish). ${fix}`;
  }
  return undefined;
}
