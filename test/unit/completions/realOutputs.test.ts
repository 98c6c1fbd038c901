import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { completionShape, indentStep, indentWidth, postProcess } from '../../../src/core/completions/postProcess';
import { LocalModel } from '../../../src/core/runtime/localModel';
import { captureRaw, contextOf, positions, realOutputsPath, repoRoot, shippedModelSha256, type RealOutputsFile } from './fixtures/realOutputs';

// Raw outputs of the shipped model at fixed positions (captured by fixtures/captureRealOutputs.ts);
// what post-processing must make of each is written by hand in the fixture, with why.
const file = JSON.parse(readFileSync(realOutputsPath, 'utf8')) as RealOutputsFile;

test('the fixtures are the shipped model\'s outputs at every capture position', () => {
  assert.equal(file.modelSha256, shippedModelSha256(), 'models/tokenscope-mini changed: run fixtures/captureRealOutputs.ts and review the outputs whose raw text changed');
  assert.deepEqual(file.outputs.map((output) => output.name), Object.keys(positions));
  // Both kinds of answer are covered: something to show, and nothing.
  assert.ok(file.outputs.filter((output) => output.expected === null).length >= 1);
  assert.ok(file.outputs.filter((output) => typeof output.expected === 'string').length >= 9);
});

test('the shipped model still answers what was captured (two positions rerun)', async () => {
  const local = await LocalModel.load({ model: 'mini', threads: 1 }, { packageRoot: repoRoot, cwd: repoRoot });
  try {
    for (const name of ['ts-if-condition', 'py-enter-in-class']) {
      const fresh = await captureRaw(local, name);
      const stored = file.outputs.find((output) => output.name === name);
      assert.deepEqual(fresh, { name, document: stored?.document, stopStrings: stored?.stopStrings, raw: stored?.raw });
    }
  } finally {
    await local.dispose();
  }
});

for (const fixture of file.outputs) {
  test(`real output of the shipped model / ${fixture.name}`, () => {
    assert.ok(fixture.expected !== undefined && typeof fixture.why === 'string', `${fixture.name}: write "expected" and "why" by hand (see captureRealOutputs.ts)`);
    const context = contextOf(fixture.document, fixture.stopStrings);
    const result = postProcess(fixture.raw, context) ?? null;
    assert.equal(result, fixture.expected);
    // The rules hold on whatever a model produces; nothing shown is an empty suggestion here.
    const shown = result ?? '';
    assert.ok(result === null || shown.trim().length > 0, 'never whitespace-only');
    if (completionShape(context.linePrefix, context.lineSuffix) === 'single-line') assert.ok(!shown.includes('\n'), 'single line where the cursor does not start a block');
    for (const stop of fixture.stopStrings) assert.ok(!shown.includes(stop), `no ${stop}`);
    // Where the editor already indented the line, the suggestion starts on an indentation step.
    if (/^[ \t]+$/.test(context.linePrefix)) assert.equal((indentWidth(context.linePrefix) + indentWidth(shown)) % indentStep(context.prefix), 0, 'starts on an indentation step');
    assert.doesNotMatch(shown, /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffd]/);
  });
}
