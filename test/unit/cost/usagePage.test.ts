import { test } from 'node:test';
import assert from 'node:assert/strict';
import { usagePageHtml } from '../../../src/core/cost/usagePage';
import { buildPriceTable } from '../../../src/core/pricing/cost';

test('the Usage & Cost page: three periods, by feature, by model with dates, a 30-bar chart, no script', () => {
  const models = buildPriceTable([]).models;
  const reference = models.find((model) => model.id === 'gpt-4o');
  assert.ok(reference);
  const html = usagePageHtml({
    ledger: {
      '2026-12-03': { 'completions/local': { requests: 4, read: 4000, generated: 200 } },
      '2026-11-30': { 'chat/remote': { requests: 1, read: 1000, generated: 500 } },
      '2026-10-01': { 'explain/local': { requests: 9, read: 9, generated: 9 } },
    },
    ledgerPath: '/tmp/<ledger>.json',
    models,
    reference,
    now: new Date(2026, 11, 3, 15),
    nonce: 'abc123',
  });
  assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'nonce-abc123'">/);
  assert.doesNotMatch(html, /<script/);
  assert.doesNotMatch(html, / style="/, 'no inline style attributes (the CSP would block them)');
  assert.match(html, /\/tmp\/&lt;ledger&gt;\.json/);
  // Requests: today 4, 7 days 5, 30 days 5 (the October explain is older).
  assert.match(html, /<td>Requests<\/td><td class="number">4<\/td><td class="number">5<\/td><td class="number">5<\/td>/);
  // Today on GPT-4o: 4,000 read at $2.50/M + 200 generated at $10/M = $0.012.
  assert.match(html, /<td>On GPT-4o<\/td><td class="number">\$0\.012<\/td>/);
  assert.match(html, /<td>completions<\/td><td>local<\/td><td class="number">4<\/td>/);
  assert.match(html, /<td>chat<\/td><td>remote<\/td><td class="number">1<\/td>/);
  assert.doesNotMatch(html, /<td>explain<\/td>/);
  assert.equal((html.match(/<rect class="bar"/g) ?? []).length, 30);
  assert.match(html, /data-day="2026-12-03"><title>2026-12-03: \$0\.012 · 4,000 read, 200 generated, 4 requests<\/title>/);
  assert.match(html, /<td class="stale">2024-10-01 \(possibly stale\)<\/td>/);
  assert.match(html, /tokenscope\.cost\.customModels/);
});
