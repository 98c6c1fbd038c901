import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, writeModelFolder } from '../../../tools/make-test-models';
import { matMulNBitsAccuracyLevels, patchLogitsToLastPosition, patchMatMulNBitsAccuracy } from '../../../src/core/runtime/onnxPatch';
import { LocalModel } from '../../../src/core/runtime/localModel';
import { concat, lengthDelimited, stringField } from '../../../src/core/runtime/onnxProtobuf';
import { fixture, loadFixture, repoRoot, tempDir } from './helpers';

const q4Path = join(fixture('tiny-qwen2'), 'onnx', 'model_q4.onnx');

test('MatMulNBits accuracy_level is added to every 4-bit node, and only there', () => {
  const original = readFileSync(q4Path);
  const before = matMulNBitsAccuracyLevels(original);
  // 2 layers x 7 linear layers + the LM head, all written without the attribute (level 0).
  assert.deepEqual([...before], [[0, 15]]);
  const patched = patchMatMulNBitsAccuracy(original, 4);
  assert.ok(patched);
  assert.equal(patched.patchedNodes, 15);
  assert.deepEqual([...matMulNBitsAccuracyLevels(patched.bytes)], [[4, 15]]);
  // Already at the level: nothing to do. Changing an existing attribute works too.
  assert.equal(patchMatMulNBitsAccuracy(patched.bytes, 4), undefined);
  const back = patchMatMulNBitsAccuracy(patched.bytes, 1);
  assert.deepEqual([...matMulNBitsAccuracyLevels(back!.bytes)], [[1, 15]]);
  // No 4-bit nodes, or not a model: undefined (the file is then loaded as it is).
  assert.equal(patchMatMulNBitsAccuracy(readFileSync(join(fixture('tiny-qwen2'), 'onnx', 'model.onnx')), 4), undefined);
  assert.equal(patchMatMulNBitsAccuracy(Buffer.from('not a model'), 4), undefined);
});

test('MatMulNBits nodes inside control-flow subgraphs (If: g, Loop/Scan: graphs) are patched too, the rest kept byte for byte', () => {
  // NodeProto: op_type 4, domain 7, attribute 5; AttributeProto: name 1, g 6, graphs 11; GraphProto: node 1, name 2; ModelProto: graph 7.
  const matmul = lengthDelimited(1, [...stringField(4, 'MatMulNBits'), ...stringField(7, 'com.microsoft')]);
  const other = lengthDelimited(1, [...stringField(4, 'Add')]);
  const subgraph = (name: string) => [...stringField(2, name), ...matmul, ...other];
  const ifNode = lengthDelimited(1, [...stringField(4, 'If'), ...lengthDelimited(5, [...stringField(1, 'then_branch'), ...lengthDelimited(6, subgraph('then'))]), ...lengthDelimited(5, [...stringField(1, 'else_branch'), ...lengthDelimited(6, subgraph('else'))])]);
  const loopNode = lengthDelimited(1, [...stringField(4, 'Loop'), ...lengthDelimited(5, [...stringField(1, 'bodies'), ...lengthDelimited(11, subgraph('body'))])]);
  const model = concat([...stringField(2, 'producer'), ...lengthDelimited(7, [...stringField(2, 'main'), ...matmul, ...ifNode, ...loopNode, ...other])]);
  assert.deepEqual([...matMulNBitsAccuracyLevels(model)], [[0, 4]]);
  const patched = patchMatMulNBitsAccuracy(model, 4);
  assert.ok(patched);
  assert.equal(patched.patchedNodes, 4);
  assert.deepEqual([...matMulNBitsAccuracyLevels(patched.bytes)], [[4, 4]]);
  // Already at the level everywhere: nothing to do.
  assert.equal(patchMatMulNBitsAccuracy(patched.bytes, 4), undefined);
  // Only the attributes were added: the model grew by 4 of them plus the length prefixes they lengthened.
  const attributeBytes = concat(lengthDelimited(5, [Uint8Array.from([0x0a, 14, ...new TextEncoder().encode('accuracy_level'), 0x18, 4, 0xa0, 0x01, 0x02])])).length;
  assert.ok(patched.bytes.length >= model.length + 4 * attributeBytes && patched.bytes.length <= model.length + 4 * attributeBytes + 16);
});

test('int8 compute ("fast", the default for 4-bit files) stays close to the exact graph', async () => {
  const fast = await loadFixture('tiny-qwen2', 'q4');
  const exact = await loadFixture('tiny-qwen2', 'q4', 'exact');
  try {
    assert.equal(fast.info.int8ComputeNodes, 15);
    assert.equal(exact.info.int8ComputeNodes, 0);
    const ids = fast.tokenizer.encode('def hello_world():\n    return 42\n');
    const a = await fast.nextTokenLogits(ids);
    const b = await exact.nextTokenLogits(ids);
    let maxError = 0;
    for (let v = 0; v < a.length; v++) maxError = Math.max(maxError, Math.abs(a[v] - b[v]));
    assert.ok(maxError > 0, 'the patched graph really computes differently');
    assert.ok(maxError < 0.3, `logits differ by ${maxError}`);
  } finally {
    await fast.dispose();
    await exact.dispose();
  }
});

test('a patched 4-bit model with external data (.onnx_data) still finds its weights', async () => {
  const scratch = tempDir();
  try {
    const base = FIXTURES.find((folder) => folder.name === 'tiny-qwen3')!;
    const { dir } = writeModelFolder(scratch.dir, { ...base, name: 'q4-external', files: { 'model_q4.onnx': { ...base.files['model.onnx'], weights: 'q4', externalDataName: 'model_q4.onnx_data' } } });
    const model = await LocalModel.load({ model: dir, threads: 1 }, { packageRoot: repoRoot });
    try {
      assert.equal(model.info.variant, 'q4');
      assert.ok(model.info.int8ComputeNodes > 0);
      const logits = await model.nextTokenLogits([1, 2, 3]);
      assert.ok(logits.every(Number.isFinite));
    } finally {
      await model.dispose();
    }
  } finally {
    scratch.cleanup();
  }
});

test('logits for the last positions only: a Slice before the LM head, same rows, num_logits_to_keep rows out', async () => {
  const { InferenceSession, Tensor } = await import('onnxruntime-node');
  const cases = [
    join(fixture('tiny-qwen2'), 'onnx', 'model.onnx'),
    join(fixture('tiny-qwen2'), 'onnx', 'model_fp16.onnx'),
    q4Path,
    join(fixture('tiny-bigcode'), 'onnx', 'model.onnx'),
    // Tied embeddings: the LM head multiplies by the transposed embedding table.
    join(repoRoot, 'models', 'tokenscope-mini', 'onnx', 'model.onnx'),
  ];
  for (const path of cases) {
    const original = new Uint8Array(readFileSync(path));
    const patched = patchLogitsToLastPosition(original);
    assert.ok(patched, `${path} is patched`);
    assert.equal(patchLogitsToLastPosition(patched), undefined, 'patching twice does nothing');
    const before = await InferenceSession.create(original);
    const after = await InferenceSession.create(patched);
    try {
      const n = 6;
      const feeds: Record<string, InstanceType<typeof Tensor>> = {};
      for (const meta of before.inputMetadata) {
        if (!meta.isTensor) continue;
        const name = meta.name;
        if (name === 'input_ids') feeds[name] = new Tensor('int64', BigInt64Array.from({ length: n }, (_, i) => BigInt(3 + 5 * i)), [1, n]);
        else if (name === 'attention_mask') feeds[name] = new Tensor('int64', new BigInt64Array(n).fill(1n), [1, n]);
        else if (name === 'position_ids') feeds[name] = new Tensor('int64', BigInt64Array.from({ length: n }, (_, i) => BigInt(i)), [1, n]);
        else if (name === 'use_cache_branch') feeds[name] = new Tensor('bool', [false], [1]);
        else {
          const dims = (meta.shape as (number | string)[]).map((dim, axis) => (axis === 0 ? 1 : typeof dim === 'number' ? dim : 0));
          feeds[name] = meta.type === 'float16' ? new Tensor('float16', new Uint16Array(0), dims) : new Tensor('float32', new Float32Array(0), dims);
        }
      }
      const all = (await before.run(feeds)).logits;
      const keep = (rows: bigint) => ({ ...feeds, num_logits_to_keep: new Tensor('int64', BigInt64Array.of(rows), [1]) });
      const last = (await after.run(keep(1n))).logits;
      // num_logits_to_keep n: the last n rows, as the unpatched graph computes them (scoring a text).
      const lastThree = (await after.run(keep(3n))).logits;
      assert.deepEqual(lastThree.dims, [1, 3, all.dims[2]], `${path}: three rows of logits`);
      const everyRow = (await after.run(keep(0n))).logits;
      assert.deepEqual(everyRow.dims, all.dims, `${path}: 0 keeps every row`);
      for (let i = 0; i < (all.data as Float32Array | Uint16Array).length; i++) {
        const tolerance = all.type === 'float16' ? 1 : 1e-5;
        assert.ok(Math.abs(Number((everyRow.data as Float32Array | Uint16Array)[i]) - Number((all.data as Float32Array | Uint16Array)[i])) <= tolerance, `${path}: row value ${i}`);
      }
      const rowsOfThree = (lastThree.data as Float32Array | Uint16Array).subarray(0, all.dims[2]);
      const third = (all.data as Float32Array | Uint16Array).subarray((n - 3) * all.dims[2], (n - 2) * all.dims[2]);
      for (let v = 0; v < all.dims[2]; v++) assert.ok(Math.abs(Number(rowsOfThree[v]) - Number(third[v])) <= (all.type === 'float16' ? 1 : 1e-5));
      const vocab = all.dims[2];
      assert.deepEqual(all.dims, [1, n, vocab]);
      assert.deepEqual(last.dims, [1, 1, vocab], `${path}: one row of logits`);
      const expected = (all.data as Float32Array | Uint16Array).subarray((n - 1) * vocab);
      const actual = last.data as Float32Array | Uint16Array;
      let maxError = 0;
      for (let v = 0; v < vocab; v++) maxError = Math.max(maxError, Math.abs(Number(actual[v]) - Number(expected[v])));
      // fp16 logits compare as raw halves: equal, or one unit apart.
      assert.ok(maxError <= (all.type === 'float16' ? 1 : 1e-5), `${path}: last row differs by ${maxError}`);
    } finally {
      await before.release();
      await after.release();
    }
  }
  // Graphs that already keep the last logits, and bytes that are not a model, are left alone.
  assert.equal(patchLogitsToLastPosition(readFileSync(join(fixture('tiny-qwen3'), 'onnx', 'model.onnx'))), undefined);
  assert.equal(patchLogitsToLastPosition(Buffer.from('not a model')), undefined);
});
