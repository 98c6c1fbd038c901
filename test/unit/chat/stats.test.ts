import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeStats, formatDuration, formatReasoningSplit, formatStats, reasoningSplit } from '../../../src/core/chat/stats';
import { buildPriceTable, costEstimator, formatUSDBrief, referenceCostEstimator } from '../../../src/core/pricing/cost';

test('stats: decode speed excludes the first token; time to first token from the request', () => {
  const stats = computeStats({ promptTokens: 100, generatedTokens: 11 }, { startedAt: 0, firstTokenAt: 400, lastTokenAt: 1400, endedAt: 1500 });
  assert.equal(stats.timeToFirstTokenMs, 400);
  assert.equal(stats.tokensPerSecond, 10);
  assert.equal(stats.totalMs, 1500);
  assert.equal(stats.cost, undefined);
});

test('stats: no tokens means no speed', () => {
  const stats = computeStats({ promptTokens: 5, generatedTokens: 0 }, { startedAt: 0, endedAt: 10 });
  assert.equal(stats.tokensPerSecond, undefined);
  assert.equal(stats.timeToFirstTokenMs, undefined);
});

test('stats: cost from a per-million price', () => {
  const estimate = costEstimator([{ id: 'ref', inputPerMTok: 2.5, outputPerMTok: 10 }]);
  const stats = computeStats({ promptTokens: 1000, generatedTokens: 500 }, { startedAt: 0, endedAt: 1 }, estimate);
  assert.deepEqual(stats.cost, { referenceModel: 'ref', usd: 0.0075 });
  assert.equal(referenceCostEstimator(buildPriceTable([]), 'no-such-model'), undefined);
  assert.equal(computeStats({ promptTokens: 1, generatedTokens: 1 }, { startedAt: 0, endedAt: 1 }, costEstimator([])).cost, undefined);
});

test('formatting', () => {
  assert.equal(formatUSDBrief(0.0075), '$0.0075');
  assert.equal(formatUSDBrief(0.00001), '<$0.0001');
  assert.equal(formatUSDBrief(0.5), '$0.500');
  assert.equal(formatDuration(420), '420 ms');
  assert.equal(formatDuration(4200), '4.2 s');
  assert.equal(formatStats({ promptTokens: 10, generatedTokens: 20, tokensPerSecond: 12.34, timeToFirstTokenMs: 300, totalMs: 2000, cost: { referenceModel: 'gpt-4o', usd: 0.0012 } }), '10 prompt · 20 generated · 12.3 tok/s · 300 ms to first token · ≈$0.0012 on gpt-4o');
});

test('stats: a reasoning answer splits thinking from answer tokens and prices both as output', () => {
  // 812 thinking + 143 answer tokens at $10 per million output.
  const estimate = costEstimator([{ id: 'ref', inputPerMTok: 2.5, outputPerMTok: 10 }]);
  const stats = computeStats({ promptTokens: 100, generatedTokens: 955 }, { startedAt: 0, endedAt: 1000 }, estimate, undefined, 812);
  assert.deepEqual(stats.reasoning, { thinkingTokens: 812, answerTokens: 143, thinkingUSD: 0.00812, answerUSD: 0.00143 });
  assert.match(formatStats(stats), /thought 812 tok · \$0\.0081, answered 143 tok · \$0\.0014$/);
  // No thinking: no split; thinking reported above the generated count is clamped.
  assert.equal(computeStats({ promptTokens: 1, generatedTokens: 5 }, { startedAt: 0, endedAt: 1 }, estimate).reasoning, undefined);
  assert.deepEqual(reasoningSplit(5, 9), { thinkingTokens: 5, answerTokens: 0 });
  assert.equal(formatReasoningSplit(reasoningSplit(10, 4)), 'thought 4 tok, answered 6 tok');
});
