import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareModels, type LocalModelFacts } from '../../../src/core/models/comparison';
import { modelInfoHtml } from '../../../src/core/models/modelInfoHtml';

const miniDir = join(__dirname, '..', '..', '..', 'models', 'tokenscope-mini');
const mini: LocalModelFacts = {
  id: 'mini', label: 'tokenscope-mini', builtin: true, active: true,
  config: JSON.parse(readFileSync(join(miniDir, 'config.json'), 'utf8')),
  card: JSON.parse(readFileSync(join(miniDir, 'model-card.json'), 'utf8')),
};
const page = (locals: LocalModelFacts[], problem?: string) => modelInfoHtml({ comparison: compareModels(locals), problem, cspSource: 'vscode-resource:', nonce: 'N0nce' });

test('the page lists every model with its numbers, marks the running one, and explains them', () => {
  const html = page([mini]);
  const rows = html.match(/<tr class="[^"]*">/g) ?? [];
  assert.equal(rows.length, compareModels([mini]).models.length);
  assert.match(html, /<tr class="active-row">\s*<th scope="row"><div>tokenscope-mini <span class="badge">built-in<\/span><span class="badge active">running<\/span>/);
  assert.match(html, /Qwen2\.5-Coder-1\.5B-Instruct/);
  assert.match(html, /<li>44% of tokenscope-mini&#39;s parameters are its embedding table/);
  assert.match(html, /bits per byte/);
});

test('no script, no inline style attribute: everything the CSP allows carries the nonce', () => {
  const html = page([mini]);
  assert.doesNotMatch(html, /<script/i);
  assert.doesNotMatch(html, /\sstyle="/, 'inline style attributes are blocked by a nonce CSP');
  assert.match(html, /default-src 'none'; style-src vscode-resource: 'nonce-N0nce'/);
  assert.match(html, /<style nonce="N0nce">/);
  // Every bar segment's width is a rule of the stylesheet.
  for (const [, name] of html.matchAll(/class="seg seg-\w+ (w\d+-\w+)"/g)) assert.match(html, new RegExp(`\\.${name} \\{ width: [\\d.]+%; \\}`));
});

test('a user model folder is shown with its name escaped, and a problem is reported on the page', () => {
  const odd: LocalModelFacts = { id: '/m/<b>', label: '<b>odd</b>', builtin: false, active: true, config: { ...mini.config as object, num_hidden_layers: 7 } };
  const html = page([{ ...mini, active: false }, odd], 'The configured model (<x>) cannot be shown: config.json is not valid JSON');
  assert.match(html, /&lt;b&gt;odd&lt;\/b&gt;/);
  assert.doesNotMatch(html, /<b>odd/);
  assert.match(html, /<p class="problem" role="alert">The configured model \(&lt;x&gt;\) cannot be shown/);
});
