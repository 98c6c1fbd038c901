// The decode memory bound's arithmetic (bench/lib/memoryBound.ts): a percent of the bound above
// 100 cannot come out, whatever the probe measured.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kvBytesPerToken, memoryBound } from '../../../bench/lib/memoryBound';
import { mulberry32 } from '../../../src/core/random';

describe('memory bound', () => {
  it('is bandwidth / bytes per token, and the percent is the measured share of it', () => {
    const bound = memoryBound({ bytesPerToken: 300e6, probeBytesPerSecond: 24e9, tokensPerSecond: 20 });
    assert.equal(bound.boundTokensPerSecond, 80);
    assert.equal(bound.percentOfBound, 25);
    assert.equal(bound.decodeBytesPerSecond, 6e9);
    assert.equal(bound.decodeBeatProbe, false);
  });

  it('a decode faster than the probe is the bound itself: 100%, flagged, never more', () => {
    // The old bench's case: 310 MB per token, 3.4 GB/s, 26.6 tokens/s measured ("241% of the bound").
    const bound = memoryBound({ bytesPerToken: 310e6, probeBytesPerSecond: 3.4e9, tokensPerSecond: 26.6 });
    assert.equal(bound.percentOfBound, 100);
    assert.equal(bound.decodeBeatProbe, true);
    assert.equal(bound.bytesPerSecond, 310e6 * 26.6);
    assert.ok(bound.boundTokensPerSecond >= 26.6);
  });

  it('never exceeds 100% over a million random inputs spanning twelve orders of magnitude', () => {
    const random = mulberry32(18);
    const logUniform = (lo: number, hi: number) => 10 ** (lo + (hi - lo) * random());
    let atHundred = 0;
    for (let i = 0; i < 1_000_000; i++) {
      const input = { bytesPerToken: logUniform(3, 12), probeBytesPerSecond: logUniform(6, 12), tokensPerSecond: logUniform(-3, 5) };
      const bound = memoryBound(input);
      assert.ok(bound.percentOfBound <= 100, `${JSON.stringify(input)} gave ${bound.percentOfBound}%`);
      assert.ok(bound.percentOfBound > 0);
      assert.ok(bound.boundTokensPerSecond * (1 + 1e-12) >= input.tokensPerSecond, 'the bound is never below the measured rate');
      assert.equal(bound.decodeBeatProbe, input.bytesPerToken * input.tokensPerSecond > input.probeBytesPerSecond);
      if (bound.percentOfBound === 100) atHundred++;
    }
    assert.ok(atHundred > 0, 'the inputs include decodes that beat the probe');
  });

  it('exactly at the probe: 100% without the flag', () => {
    const bound = memoryBound({ bytesPerToken: 3, probeBytesPerSecond: 0.3, tokensPerSecond: 0.1 });
    assert.ok(bound.percentOfBound <= 100 && bound.percentOfBound > 99.999999);
  });

  it('rejects zero, negative and non-finite inputs instead of printing a meaningless percent', () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => memoryBound({ bytesPerToken: bad, probeBytesPerSecond: 1e9, tokensPerSecond: 1 }), /bytesPerToken/);
      assert.throws(() => memoryBound({ bytesPerToken: 1e6, probeBytesPerSecond: bad, tokensPerSecond: 1 }), /probeBytesPerSecond/);
      assert.throws(() => memoryBound({ bytesPerToken: 1e6, probeBytesPerSecond: 1e9, tokensPerSecond: bad }), /tokensPerSecond/);
    }
  });

  it('counts keys and values of every layer for the KV cache', () => {
    // Qwen2.5-0.5B: 24 layers, 2 kv heads of 64, fp32, 44 positions.
    assert.equal(kvBytesPerToken(24, 2, 64, 44, 4), 2 * 24 * 2 * 64 * 44 * 4);
  });
});
