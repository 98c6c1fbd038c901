import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, writeModelFolder } from '../../../tools/make-test-models';
import { matMulNBitsAccuracyLevels, patchMatMulNBitsAccuracy } from '../../../src/core/runtime/onnxPatch';
import { LocalModel } from '../../../src/core/runtime/localModel';
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
