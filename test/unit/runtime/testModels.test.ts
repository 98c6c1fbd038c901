import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { FIXTURES, writeModelFolder } from '../../../tools/make-test-models';
import { dequantizedWeights, makeWeights, referenceLogits } from '../../../tools/test-models/decoder';
import { fixturesDir, loadFixture, tempDir } from './helpers';

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

test('committed test models are exactly what tools/make-test-models.ts writes', () => {
  const scratch = tempDir();
  try {
    for (const folder of FIXTURES) writeModelFolder(scratch.dir, folder);
    const fresh = listFiles(scratch.dir).map((path) => relative(scratch.dir, path)).sort();
    const committed = FIXTURES.flatMap((folder) => listFiles(join(fixturesDir, folder.name))).map((path) => relative(fixturesDir, path)).sort();
    assert.deepEqual(committed, fresh);
    for (const file of fresh) {
      assert.ok(readFileSync(join(scratch.dir, file)).equals(readFileSync(join(fixturesDir, file))), `${file} differs: run node --import tsx tools/make-test-models.ts`);
    }
  } finally {
    scratch.cleanup();
  }
});

const PROMPT = [5, 17, 200, 33, 99, 7, 250, 12];

for (const folder of FIXTURES) {
  for (const [file, options] of Object.entries(folder.files)) {
    const variant = file === 'model_fp16.onnx' ? 'fp16' : file === 'model_q4.onnx' ? 'q4' : 'fp32';
    test(`${folder.name}/${file} computes the reference transformer (full prompt and token by token)`, async () => {
      const weights = options.weights === 'q4' ? dequantizedWeights(makeWeights(folder.spec)) : makeWeights(folder.spec);
      const reference = referenceLogits(folder.spec, weights, PROMPT);
      // fp16 caches and logits round to ~3 significant digits.
      const tolerance = options.kvType === 'float16' ? 2e-2 : 1e-4;
      // `exact`: the graph as written (the default int8 compute of 4-bit layers rounds activations).
      const model = await loadFixture(folder.name, variant, 'exact');
      try {
        assert.equal(model.info.variant, variant);
        for (let length = 1; length <= PROMPT.length; length++) {
          const logits = await model.nextTokenLogits(PROMPT.slice(0, length));
          let maxError = 0;
          for (let v = 0; v < folder.spec.vocabSize; v++) maxError = Math.max(maxError, Math.abs(logits[v] - reference[length - 1][v]));
          assert.ok(maxError < tolerance, `position ${length - 1}: max error ${maxError}`);
        }
        // The whole prompt at once, without the cache (prefill path).
        const logits = await model.nextTokenLogits(PROMPT, { reuseCache: false });
        const last = reference[PROMPT.length - 1];
        assert.ok(Math.max(...last.map((value, v) => Math.abs(value - logits[v]))) < tolerance);
      } finally {
        await model.dispose();
      }
    });
  }
}
