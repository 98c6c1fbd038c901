import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FIXTURES } from '../../../tools/make-test-models';
import { makeWeights, toHalf } from '../../../tools/test-models/decoder';
import { writeModel, type Initializer } from '../../../tools/test-models/onnxProto';
import { EmbeddingIndex, readEmbeddingMatrix } from '../../../src/core/runtime/embeddings';
import { buildInspectionGraph } from '../../../src/core/runtime/inspectGraph';
import { halfToFloat } from '../../../src/core/runtime/float16';
import { join } from 'node:path';
import { ModelProcessClient, inspectModel } from '../../../src/core/modelProcess/client';
import { fixture, loadFixture, repoRoot, tempDir } from '../runtime/helpers';

const TEXT = 'function add(a, b) {\n  return a + b;\n}\nconst total = add(1, 2);\n';

test('attention for the token at the cursor: one row per layer and head, each summing to 1, no weight on later tokens', async () => {
  const model = await loadFixture('tiny-qwen2', 'fp32');
  try {
    const offset = TEXT.indexOf('return') + 2;
    const result = await model.inspect({ kind: 'attention', text: TEXT, offset });
    assert.equal(result.layers, 2);
    assert.equal(result.heads, 4);
    const cursor = result.tokens[result.position];
    assert.ok(cursor.start <= offset && offset < cursor.end, 'the cursor token covers the offset');
    assert.ok(result.tokens.length > result.position + 1, 'tokens after the cursor are there, to show they get nothing');
    assert.equal(result.weights.length, 2);
    for (const layer of result.weights) {
      assert.equal(layer.length, 4);
      for (const row of layer) {
        assert.equal(row.length, result.tokens.length);
        assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-4);
        assert.ok(row.slice(result.position + 1).every((weight) => weight === 0));
        assert.ok(row.slice(0, result.position + 1).every((weight) => weight > 0));
      }
    }
    // Offsets index the text given.
    assert.equal(result.tokens.map((token) => TEXT.slice(token.start, token.end)).join(''), TEXT.slice(result.tokens[0].start, result.tokens.at(-1)!.end));
  } finally {
    await model.dispose();
  }
});

test('attention is said to be unavailable for a GroupQueryAttention export', async () => {
  const model = await loadFixture('tiny-qwen3');
  try {
    const result = await model.inspect({ kind: 'attention', text: TEXT, offset: 5 });
    assert.deepEqual(result.weights, []);
    assert.match(result.unavailable ?? '', /GroupQueryAttention/);
  } finally {
    await model.dispose();
  }
});

test('logit lens: layers 1..N, the last one is the model\'s own next-token distribution', async () => {
  const model = await loadFixture('tiny-qwen2', 'fp32');
  try {
    const result = await model.inspect({ kind: 'lens', prompt: TEXT, top: 5 });
    assert.deepEqual(result.layers.map((layer) => layer.layer), [1, 2]);
    const logits = await model.nextTokenLogits(model.tokenizer.encode(TEXT), { reuseCache: false });
    const max = Math.max(...logits);
    const total = logits.reduce((sum, value) => sum + Math.exp(value - max), 0);
    const expected = [...logits.keys()].sort((a, b) => logits[b] - logits[a]).slice(0, 5);
    const last = result.layers.at(-1)!.tokens;
    assert.deepEqual(last.map((token) => token.id), expected);
    for (const token of last) assert.ok(Math.abs(token.probability - Math.exp(logits[token.id] - max) / total) < 1e-5);
    for (const layer of result.layers) for (let i = 1; i < layer.tokens.length; i++) assert.ok(layer.tokens[i - 1].probability >= layer.tokens[i].probability);
  } finally {
    await model.dispose();
  }
});

function bruteForce(embed: Float32Array, dims: number, id: number, top: number): { id: number; cosine: number }[] {
  const rows = embed.length / dims;
  const row = (r: number) => Array.from(embed.subarray(r * dims, (r + 1) * dims));
  const q = row(id);
  const norm = (v: number[]) => Math.sqrt(v.reduce((a, x) => a + x * x, 0));
  const all = [];
  for (let r = 0; r < rows; r++) {
    if (r === id) continue;
    const v = row(r);
    if (norm(v) === 0) continue;
    all.push({ id: r, cosine: v.reduce((a, x, i) => a + x * q[i], 0) / (norm(v) * norm(q)) });
  }
  return all.sort((a, b) => b.cosine - a.cosine).slice(0, top);
}

for (const name of ['tiny-qwen2', 'tiny-qwen3']) {
  test(`${name}: nearest neighbours by cosine equal a brute-force float64 reference (embedding ${name === 'tiny-qwen3' ? 'in external data' : 'inside the file'})`, async () => {
    const folder = FIXTURES.find((f) => f.name === name)!;
    const embed = makeWeights(folder.spec).get('embed')!.data;
    const model = await loadFixture(name);
    try {
      const result = await model.inspect({ kind: 'neighbours', token: 'return', top: 8 });
      const expected = bruteForce(embed, folder.spec.hiddenSize, result.id, 8);
      assert.deepEqual(result.neighbours.map((n) => n.id), expected.map((n) => n.id));
      for (let i = 0; i < 8; i++) assert.ok(Math.abs(result.neighbours[i].cosine - expected[i].cosine) < 1e-4);
      assert.deepEqual(result.vector, Array.from(embed.subarray(result.id * folder.spec.hiddenSize, result.id * folder.spec.hiddenSize + 8), (v) => Number(v.toFixed(4))));
      assert.equal(result.dimensions, folder.spec.hiddenSize);
      assert.equal(result.storage, 'float32');
    } finally {
      await model.dispose();
    }
  });
}

/** A model file whose only node is the embedding lookup, reading `source` built from the initializers. */
function lookupModel(initializers: Initializer[], nodes: { op: string; inputs: string[]; outputs: string[]; domain?: string; attributes?: Record<string, number> }[]): Uint8Array {
  return writeModel(
    { name: 'g', nodes: nodes.map((node, i) => ({ ...node, name: `n${i}` })), initializers, inputs: [{ name: 'input_ids', type: 'int64', dims: [1, 'n'] }], outputs: [{ name: 'out', type: 'float', dims: [1, 'n', 4] }] },
    { opsets: { '': 17, 'com.microsoft': 1 } },
  ).model;
}

test('embeddings stored as float16, int8 behind DequantizeLinear, and 4-bit GatherBlockQuantized are dequantized as the graph does', async () => {
  const scratch = tempDir();
  try {
    const values = Float32Array.from({ length: 3 * 4 }, (_, i) => (i - 5) / 8);
    const half = Uint16Array.from(values, (v) => toHalf(v));
    const fp16 = await readEmbeddingMatrix(lookupModel([{ name: 'E', type: 'float16', dims: [3, 4], raw: new Uint8Array(half.buffer) }], [{ op: 'Gather', inputs: ['E', 'input_ids'], outputs: ['out'] }]), scratch.dir);
    assert.equal(fp16.storage, 'float16');
    assert.deepEqual(Array.from(fp16.data), Array.from(half, (h) => halfToFloat(h)));

    const q = Int8Array.from({ length: 12 }, (_, i) => i * 7 - 40);
    const rowScales = Float32Array.of(0.5, 0.25, 2);
    const int8 = await readEmbeddingMatrix(
      lookupModel(
        [
          { name: 'Eq', type: 'int8', dims: [3, 4], raw: new Uint8Array(q.buffer) },
          { name: 'scale', type: 'float', dims: [3, 1], raw: new Uint8Array(rowScales.buffer) },
        ],
        [
          { op: 'DequantizeLinear', inputs: ['Eq', 'scale'], outputs: ['E'], attributes: { axis: 0 } },
          { op: 'Gather', inputs: ['E', 'input_ids'], outputs: ['out'] },
        ],
      ),
      scratch.dir,
    );
    assert.equal(int8.storage, 'int8');
    assert.deepEqual(Array.from(int8.data), Array.from(q, (v, i) => v * rowScales[Math.floor(i / 4)]));

    // 4-bit: 2 rows x 4 columns, one block per row (block_size 4), zero point 8 (none stored).
    const nibbles = [1, 15, 8, 0, 3, 9, 12, 7];
    const packed = Uint8Array.from({ length: 4 }, (_, i) => nibbles[2 * i] | (nibbles[2 * i + 1] << 4));
    const scales = Float32Array.of(0.1, 2);
    const q4 = await readEmbeddingMatrix(
      lookupModel(
        [
          { name: 'Ep', type: 'uint8', dims: [2, 2], raw: packed },
          { name: 'S', type: 'float', dims: [2, 1], raw: new Uint8Array(scales.buffer) },
        ],
        [{ op: 'GatherBlockQuantized', inputs: ['Ep', 'input_ids', 'S'], outputs: ['out'], domain: 'com.microsoft', attributes: { block_size: 4, bits: 4, quantize_axis: 1 } }],
      ),
      scratch.dir,
    );
    assert.equal(q4.storage, '4-bit');
    assert.deepEqual(Array.from(q4.data), nibbles.map((n, i) => Math.fround((n - 8) * scales[Math.floor(i / 4)])));
    // The index answers from the dequantized matrix: itself first, then the other row.
    const index = new EmbeddingIndex(q4);
    assert.deepEqual(index.nearest(index.vector(0), 2).map((n) => n.id), [0, 1]);
    assert.deepEqual(index.nearest(index.vector(0), 2, new Set([0])).map((n) => n.id), [1]);
  } finally {
    scratch.cleanup();
  }
});

test('the model process answers inspections exactly as the in-process model does', async () => {
  const target = new ModelProcessClient({ entry: join(repoRoot, 'src', 'model-process', 'main.ts'), execArgv: ['--import', 'tsx'], packageRoot: repoRoot });
  const local = await loadFixture('tiny-qwen2');
  try {
    await target.load({ model: fixture('tiny-qwen2'), threads: 1 });
    const request = { kind: 'attention', text: TEXT, offset: 30 } as const;
    const [remote, inProcess] = [await inspectModel(target, request), await local.inspect(request)];
    assert.deepEqual({ ...remote, elapsedMs: 0 }, { ...inProcess, elapsedMs: 0 });
    const lens = await inspectModel(target, { kind: 'lens', prompt: TEXT });
    assert.deepEqual(lens.layers, (await local.inspect({ kind: 'lens', prompt: TEXT })).layers);
    const neighbours = await inspectModel(target, { kind: 'neighbours', token: 'add' });
    assert.deepEqual(neighbours.neighbours, (await local.inspect({ kind: 'neighbours', token: 'add' })).neighbours);
  } finally {
    await local.dispose();
    await target.dispose();
  }
});

test('the inspection graph says what an export does not expose: softmaxes that do not match the layers, no embedding lookup of input_ids', () => {
  const model = writeModel(
    {
      name: 'g',
      nodes: [
        { op: 'Identity', inputs: ['input_ids'], outputs: ['ids'], name: 'n0' },
        { op: 'Softmax', inputs: ['x'], outputs: ['p'], name: 'n1' },
        { op: 'Identity', inputs: ['p'], outputs: ['logits'], name: 'n2' },
      ],
      initializers: [],
      inputs: [
        { name: 'input_ids', type: 'int64', dims: [1, 'n'] },
        { name: 'x', type: 'float', dims: [1, 'n'] },
      ],
      outputs: [{ name: 'logits', type: 'float', dims: [1, 'n'] }],
    },
    { opsets: { '': 17 } },
  ).model;
  const graph = buildInspectionGraph(model, 2);
  assert.match(graph.attentionUnavailable ?? '', /1 Softmax nodes for 2 layers/);
  assert.match(graph.lensUnavailable ?? '', /no embedding lookup of input_ids/);
  assert.deepEqual([graph.attentionOutputs, graph.hiddenOutputs, graph.lensOutputs], [[], [], []]);
});
