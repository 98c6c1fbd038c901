import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitGenerationSettings, SMALLEST_TOP_P } from '../../../src/core/runtime/requestLimits';

const names = { maxTokens: '--max-tokens', temperature: '--temperature', topP: '--top-p' };
const limits = { modelLabel: 'mini', contextLength: 512, promptTokens: 12 };

test('settings that fit the model are kept as they are, silently', () => {
  assert.deepEqual(fitGenerationSettings({ maxTokens: 100, temperature: 0.7, topP: 0.95 }, limits, names), { settings: { maxTokens: 100, temperature: 0.7, topP: 0.95 }, changes: [] });
  assert.deepEqual(fitGenerationSettings({ maxTokens: 500 }, limits, names).changes, [], 'exactly the room left');
});

test('each change says what was asked, what the model allows and what was used', () => {
  const fitted = fitGenerationSettings({ maxTokens: 5000, temperature: -1, topP: 0 }, limits, names);
  assert.deepEqual(fitted.settings, { maxTokens: 500, temperature: 0, topP: SMALLEST_TOP_P });
  assert.deepEqual(fitted.changes, [
    '--top-p is 0, but nucleus sampling needs more than 0 (it is the share of probability to sample from; 1 keeps every token): the smallest nucleus was used, which always picks the most likely token.',
    '--temperature is -1, but it cannot be negative: 0 was used (always the most likely token).',
    "--max-tokens 5000 does not fit: mini's context is 512 tokens and the prompt takes 12, so at most 500 tokens are generated.",
  ]);
  assert.deepEqual(fitGenerationSettings({ maxTokens: 10, topP: 1.5 }, limits, names).settings, { maxTokens: 10, topP: 1 });
  assert.equal(fitGenerationSettings({ maxTokens: 0 }, limits, names).settings.maxTokens, 1);
});

test('a prompt that fills the context leaves a quarter of it to the answer, and says how much of the prompt is cut', () => {
  const fitted = fitGenerationSettings({ maxTokens: 300 }, { ...limits, promptTokens: 600 }, names);
  assert.equal(fitted.settings.maxTokens, 128);
  assert.deepEqual(fitted.changes, ["The prompt (600 tokens) does not fit mini's 512-token context: its oldest 216 tokens are left out and at most 128 tokens are generated."]);
});
