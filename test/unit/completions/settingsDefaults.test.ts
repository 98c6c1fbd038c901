import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { defaultEngineSettings } from '../../../src/core/completions/defaults';

// The Settings UI shows package.json's defaults; the extension falls back to the engine's. They
// must agree, or a user who never touched a setting gets a value the UI does not show.
test('package.json declares the completion engine\'s defaults', () => {
  const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as { contributes: { configuration: { properties: Record<string, { default?: unknown }> } } };
  const properties = manifest.contributes.configuration.properties;
  for (const key of ['debounceMs', 'maxTokens', 'linesBefore', 'linesAfter', 'triggerInMiddleOfWord', 'extraContext', 'minConfidence'] as const) {
    assert.equal(properties[`tokenscope.completions.${key}`]?.default, defaultEngineSettings[key], `tokenscope.completions.${key}`);
  }
});
