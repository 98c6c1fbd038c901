import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildInspectionGraph } from '../../../src/core/runtime/inspectGraph';
import { FIXTURES } from '../../../tools/make-test-models';
import { dequantizedWeights, makeWeights, referenceLogits, type ReferenceTrace } from '../../../tools/test-models/decoder';
import { LocalModel } from '../../../src/core/runtime/localModel';
import { loadFixture, repoRoot } from '../runtime/helpers';

const PROMPT = [5, 17, 200, 33, 99, 7, 250, 12, 40, 41];

const maxDifference = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
};

const CASES = [
  { folder: 'tiny-qwen2', file: 'model.onnx', variant: 'fp32' as const },
  { folder: 'tiny-qwen2', file: 'model_fp16.onnx', variant: 'fp16' as const },
  { folder: 'tiny-qwen2', file: 'model_q4.onnx', variant: 'q4' as const },
  { folder: 'tiny-bigcode', file: 'model.onnx', variant: 'fp32' as const },
  { folder: 'tiny-qwen3', file: 'model.onnx', variant: 'fp32' as const },
];

for (const { folder, file, variant } of CASES) {
  test(`${folder}/${file}: the inspection graph's attention, hidden states and lens equal a float64 reference; its logits equal the normal graph's`, async () => {
    const spec = FIXTURES.find((f) => f.name === folder)!;
    const options = spec.files[file];
    const weights = options.weights === 'q4' ? dequantizedWeights(makeWeights(spec.spec)) : makeWeights(spec.spec);
    const trace: ReferenceTrace = { hidden: [], attention: [], lens: [] };
    const reference = referenceLogits(spec.spec, weights, PROMPT, trace);
    const tolerance = options.kvType === 'float16' ? 2e-2 : 1e-4;
    const model = await loadFixture(folder, variant, 'exact');
    try {
      const normal = await model.nextTokenLogits(PROMPT, { reuseCache: false });
      {
        for (const position of [0, 3, PROMPT.length - 1]) {
          const run = await model.inspectionRun(PROMPT, position);
          assert.ok(maxDifference(run.logits, normal) < 1e-4, 'logits equal the normal graph');
          assert.equal(run.hidden.length, spec.spec.numLayers, run.lensUnavailable);
          for (let layer = 0; layer < spec.spec.numLayers; layer++) {
            assert.ok(maxDifference(run.hidden[layer], trace.hidden[layer][position]) < tolerance, `hidden ${layer} at ${position}`);
            assert.ok(maxDifference(run.lens[layer], trace.lens[layer][position]) < tolerance, `lens ${layer} at ${position}`);
          }
          if (position === PROMPT.length - 1) assert.ok(maxDifference(run.lens[spec.spec.numLayers - 1], reference[position]) < tolerance);
          if (options.style === 'contrib') {
            assert.equal(run.attention.length, 0);
            assert.match(run.attentionUnavailable ?? '', /GroupQueryAttention/);
            continue;
          }
          assert.equal(run.heads, spec.spec.numHeads);
          for (let layer = 0; layer < spec.spec.numLayers; layer++) {
            const rows = run.attention[layer];
            assert.equal(rows.length, spec.spec.numHeads * PROMPT.length);
            for (let head = 0; head < spec.spec.numHeads; head++) {
              const row = rows.subarray(head * PROMPT.length, (head + 1) * PROMPT.length);
              assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5, 'row sums to 1');
              for (let key = position + 1; key < PROMPT.length; key++) assert.equal(row[key], 0, 'no weight on later tokens');
              assert.ok(maxDifference(row.subarray(0, position + 1), trace.attention[layer][position][head]) < tolerance, `attention ${layer}/${head} at ${position}`);
            }
          }
        }
      }
    } finally {
      await model.dispose();
    }
  });
}

test('the built-in mini model exposes attention for all 5 layers x 6 heads, and its last lens layer is its own logits', async () => {
  const model = await LocalModel.load({ model: 'mini', threads: 1 }, { packageRoot: repoRoot });
  try {
    const ids = model.tokenizer.encode('function add(a, b) {\n  return a + b;\n}\n');
    const normal = await model.nextTokenLogits(ids, { reuseCache: false });
    const run = await model.inspectionRun(ids, ids.length - 1);
    assert.equal(run.attentionUnavailable, undefined);
    assert.equal(run.lensUnavailable, undefined);
    assert.equal(run.attention.length, 5);
    assert.equal(run.heads, 6);
    assert.ok(maxDifference(run.logits, normal) < 1e-4);
    assert.ok(maxDifference(run.lens[4], normal) < 1e-3, 'last lens layer = logits');
    // The earlier layers predict something else (the lens is not the output five times).
    assert.ok(maxDifference(run.lens[0], normal) > 1e-1);
  } finally {
    await model.dispose();
  }
});

test('the inspection graph of the built-in model adds nodes and outputs, not weights: a few kilobytes over the 14 MB file', () => {
  const file = join(repoRoot, 'models', 'tokenscope-mini', 'onnx', 'model.onnx');
  const original = new Uint8Array(readFileSync(file));
  const graph = buildInspectionGraph(original, 5);
  assert.equal(graph.attentionOutputs.length, 5);
  assert.equal(graph.lensOutputs.length, 5);
  const added = graph.bytes.length - original.length;
  assert.ok(added > 0 && added < 64 * 1024, `the inspection graph adds ${added} bytes`);
  // Built twice it is refused (the query input exists), so a patched graph is never patched again.
  assert.throws(() => buildInspectionGraph(graph.bytes, 5), /already an inspection graph/);
});
