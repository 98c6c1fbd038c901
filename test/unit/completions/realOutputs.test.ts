import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { completionShape, indentStep, indentWidth, postProcess } from '../../../src/core/completions/postProcess';
import { contextOf, type RealOutput } from './fixtures/realOutputs';

// Raw outputs of real models at fixed positions (captured by fixtures/captureRealOutputs.ts, reviewed).
const fixtures = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'realOutputs.json'), 'utf8')) as RealOutput[];

test('real model outputs are fixtures', () => {
  assert.ok(fixtures.length >= 9, `${fixtures.length} fixtures`);
});

for (const fixture of fixtures) {
  test(`real output ${fixture.model} / ${fixture.name}`, () => {
    const context = contextOf(fixture.document, fixture.stopStrings);
    const result = postProcess(fixture.raw, context);
    assert.equal(result ?? null, fixture.expected);
    if (result === undefined) return;
    // The rules hold on whatever a model produces.
    assert.ok(result.trim().length > 0, 'never whitespace-only');
    if (completionShape(context.linePrefix, context.lineSuffix) === 'single-line') assert.ok(!result.includes('\n'), 'single line where the cursor does not start a block');
    for (const stop of fixture.stopStrings) assert.ok(!result.includes(stop), `no ${stop}`);
    // Where the editor already indented the line, the suggestion starts on an indentation step.
    if (/^[ \t]+$/.test(context.linePrefix)) assert.equal((indentWidth(context.linePrefix) + indentWidth(result)) % indentStep(context.prefix), 0, 'starts on an indentation step');
    assert.doesNotMatch(result, /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffd]/);
  });
}
